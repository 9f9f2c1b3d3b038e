"""Errors raised by the codec; each message names the offending value."""


class CodecError(Exception):
    """Base class of the codec's own errors."""


class BitstreamError(CodecError, ValueError):
    """A bitstream cannot be decoded by this model: malformed, truncated, or from another model."""


class CodingNotPreparedError(CodecError, RuntimeError):
    """compress/decompress was called before prepare_for_coding() built the integer tables."""
