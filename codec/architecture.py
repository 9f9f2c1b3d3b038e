"""The frozen description of a codec that a search space fills in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

BlockKind = Literal["conv", "residual", "inverted_residual"]
ActivationName = Literal["relu", "gelu", "leaky_relu", "silu"]

BLOCK_KINDS: tuple[str, ...] = get_args(BlockKind)
ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)
MIN_STAGES = 2
MAX_STAGES = 5


@dataclass(frozen=True)
class CodecArchitecture:
    """Analysis transform + latent codec + synthesis transform, described by value.

    `stages` counts the 2x down-samplings of the analysis transform; the synthesis transform
    mirrors it. With `hyperprior` the hyper transforms add two more 2x down-samplings.
    """

    channels: int
    latent_channels: int
    stages: int
    block: BlockKind
    activation: ActivationName
    hyperprior: bool
    blocks_per_stage: int = 1
    expansion: int = 4
    kernel_size: int = 3
    hyper_channels: int | None = None

    @property
    def effective_hyper_channels(self) -> int:
        return self.channels if self.hyper_channels is None else self.hyper_channels

    def validate(self) -> None:
        """Raise ValueError naming the first bad field and its value."""
        for name in (
            "channels",
            "latent_channels",
            "stages",
            "blocks_per_stage",
            "expansion",
            "kernel_size",
        ):
            _require_int(name, getattr(self, name))
        _require_positive("channels", self.channels)
        _require_positive("latent_channels", self.latent_channels)
        if not MIN_STAGES <= self.stages <= MAX_STAGES:
            raise ValueError(
                f"stages must be in {MIN_STAGES}..{MAX_STAGES}, got stages={self.stages!r}"
            )
        if self.block not in BLOCK_KINDS:
            raise ValueError(f"block must be one of {BLOCK_KINDS}, got block={self.block!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {ACTIVATIONS}, got activation={self.activation!r}"
            )
        if not isinstance(self.hyperprior, bool):
            # ValueError, not TypeError: callers catch one error type for any bad field.
            raise ValueError(f"hyperprior must be a bool, got hyperprior={self.hyperprior!r}")
        if self.blocks_per_stage < 0:
            raise ValueError(
                f"blocks_per_stage must be >= 0, got blocks_per_stage={self.blocks_per_stage!r}"
            )
        _require_positive("expansion", self.expansion)
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be a positive odd int (keeps 'same' padding symmetric), "
                f"got kernel_size={self.kernel_size!r}"
            )
        if self.hyper_channels is not None:
            _require_int("hyper_channels", self.hyper_channels)
            _require_positive("hyper_channels", self.hyper_channels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable field values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CodecArchitecture:
        """Inverse of to_dict; rejects unknown keys and validates the result."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown CodecArchitecture fields: {unknown}")
        arch = cls(**values)
        arch.validate()
        return arch


def _require_int(name: str, value: object) -> None:
    # bool is an int subclass; True as a channel count is always a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {name}={value!r}")


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {name}={value!r}")
