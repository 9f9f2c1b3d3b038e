"""One ANS stream plus one escape side stream for all latents of an image.

Groups of values that share a table are added in *decoding* order. ANS is a stack, so the
encoder pushes the groups last-to-first and the decoder pops them first-to-last; the hyper
latent z is therefore added before y, and the decoder gets z (hence y's scales) first.
Escape excesses are written in decoding order, so the decoder reads them front to back.
"""

from __future__ import annotations

import constriction
import numpy as np

from codec.entropy.tables import SymbolTable
from codec.entropy.varint import decode_varints, encode_varints
from codec.errors import BitstreamError

# Symbols are int32 for constriction; this bound also keeps escape varints short.
MAX_ABS_SYMBOL = 1 << 30


def _words_to_bytes(words: np.ndarray) -> bytes:
    raw = words.astype("<u4").tobytes()
    # The last ANS word is never zero, so its zero high bytes can be dropped and restored.
    return raw.rstrip(b"\0")


def _bytes_to_words(data: bytes) -> np.ndarray:
    if data and data[-1] == 0:
        raise BitstreamError(
            "entropy-coded stream ends in a zero byte, which the encoder "
            "never writes: the stream is corrupt"
        )
    padded = data + b"\0" * (-len(data) % 4)
    return np.frombuffer(padded, dtype="<u4").astype(np.uint32)


class LatentEncoder:
    def __init__(self) -> None:
        self._groups: list[tuple[np.ndarray, SymbolTable]] = []
        self._excess: list[np.ndarray] = []

    def add(self, values: np.ndarray, table: SymbolTable) -> None:
        """Queue integer values (any shape) coded with `table`, in decoding order."""
        v = np.asarray(values).ravel()
        if v.size == 0:
            return
        if not np.issubdtype(v.dtype, np.integer):
            raise TypeError(f"latent symbols must be integers, got dtype {v.dtype}")
        worst = int(np.abs(v.astype(np.int64)).max())
        if worst > MAX_ABS_SYMBOL:
            raise ValueError(
                f"latent symbol {worst} exceeds the codable magnitude {MAX_ABS_SYMBOL}"
            )
        bins, excess = table.to_bins(v)
        self._groups.append((bins, table))
        self._excess.append(excess)

    def finish(self) -> tuple[bytes, bytes]:
        """(ANS stream bytes, escape stream bytes)."""
        coder = constriction.stream.stack.AnsCoder()
        for bins, table in reversed(self._groups):
            coder.encode_reverse(bins, table.model)
        excess = np.concatenate(self._excess) if self._excess else np.zeros(0, np.int64)
        return _words_to_bytes(coder.get_compressed()), encode_varints(excess)


class LatentDecoder:
    def __init__(self, ans_stream: bytes, escape_stream: bytes) -> None:
        try:
            self._coder = constriction.stream.stack.AnsCoder(_bytes_to_words(ans_stream))
        except ValueError as exc:
            raise BitstreamError(f"entropy-coded stream is malformed: {exc}") from exc
        self._excess = decode_varints(escape_stream)
        self._next_excess = 0

    def take(self, count: int, table: SymbolTable) -> np.ndarray:
        """Decode the next `count` values coded with `table` (int64, flat)."""
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        bins = np.asarray(self._coder.decode(table.model, count))
        n_escaped = int(((bins == 0) | (bins == table.counts.size - 1)).sum())
        end = self._next_excess + n_escaped
        if end > self._excess.size:
            raise BitstreamError(
                f"escape stream holds {self._excess.size} values but the latents need more: "
                "the bitstream is corrupt or truncated"
            )
        excess = self._excess[self._next_excess : end]
        self._next_excess = end
        return table.from_bins(bins, excess)

    def finish(self) -> None:
        """Check that both streams were consumed exactly; a corrupt stream fails here."""
        if not self._coder.is_empty():
            raise BitstreamError(
                "entropy-coded stream has data left after all latents were "
                "decoded: the bitstream is corrupt or made by other tables"
            )
        unused = self._excess.size - self._next_excess
        if unused:
            raise BitstreamError(f"escape stream has {unused} unused values: it is corrupt")
