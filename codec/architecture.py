"""The frozen description of a codec that a search space fills in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

BlockKind = Literal["conv", "residual", "inverted_residual", "convscale"]
ActivationName = Literal["relu", "gelu", "leaky_relu", "silu", "gdn", "simplified_gdn"]
# Normalizations over channels (codec/gdn.py): used after each resampling of the transforms;
# everything else in the codec (blocks, hyper transforms, context model) then uses ReLU.
CHANNEL_NORMALIZATIONS = ("gdn", "simplified_gdn")
ResamplingKind = Literal["conv", "haar", "pixel_shuffle"]
EntropyModelName = Literal["factorized", "scale_hyperprior", "mean_scale_hyperprior", "context"]
ContextGrid = Literal["checkerboard", "2x2"]

BLOCK_KINDS: tuple[str, ...] = get_args(BlockKind)
ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)
RESAMPLINGS: tuple[str, ...] = get_args(ResamplingKind)
ENTROPY_MODELS: tuple[str, ...] = get_args(EntropyModelName)
CONTEXT_GRIDS: tuple[str, ...] = get_args(ContextGrid)
MIN_STAGES = 2
MAX_STAGES = 5
MAX_RATE_POINTS = 16


@dataclass(frozen=True)
class StageSpec:
    """The blocks at one resolution level: CS-Chain(C channels, R repeats, E expansion, F kernel).

    The expansion only matters to inverted-residual blocks ("inverted_residual", "convscale").
    """

    channels: int
    repeats: int
    expansion: int = 4
    kernel_size: int = 3

    def validate(self, where: str) -> None:
        for name in ("channels", "repeats", "expansion", "kernel_size"):
            _require_int(f"{where}.{name}", getattr(self, name))
        _require_positive(f"{where}.channels", self.channels)
        if self.repeats < 0:
            raise ValueError(f"{where}.repeats must be >= 0, got {where}.repeats={self.repeats!r}")
        _require_positive(f"{where}.expansion", self.expansion)
        _require_odd_kernel(f"{where}.kernel_size", self.kernel_size)


@dataclass(frozen=True)
class CodecArchitecture:
    """Analysis transform + latent codec + synthesis transform, described by value.

    `stages` counts the 2x down-samplings of the analysis transform; the synthesis transform
    mirrors it. Level i (1..stages-1) holds the blocks at 1/2^i resolution: `encoder_stages[i-1]`
    and `decoder_stages[i-1]` describe them; left empty, every level gets `channels` channels
    and `blocks_per_stage` blocks of `expansion` and `kernel_size`. The last down-sampling goes
    straight to `latent_channels`. With a hyperprior, the hyper transforms add two more 2x
    down-samplings.

    `entropy_model` None keeps the historical meaning of `hyperprior` (a scale hyperprior or a
    factorized prior). `context_grid` is read by the context model only; `channel_groups` and
    `learned_width` by the mean-scale and context models. `rate_points` > 1 makes the codec
    variable-rate (one gain vector per point). `tile_size` and `tile_margin` are the inference
    tiling (PICO: 512 with a 4-pixel margin, keeping 504x504): they change no weight.
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
    encoder_stages: tuple[StageSpec, ...] = ()
    decoder_stages: tuple[StageSpec, ...] = ()
    resampling: ResamplingKind = "conv"
    entropy_model: EntropyModelName | None = None
    context_grid: ContextGrid = "checkerboard"
    channel_groups: int = 1
    learned_width: bool = False
    rate_points: int = 1
    tile_size: int = 512
    tile_margin: int = 4

    @property
    def effective_hyper_channels(self) -> int:
        return self.channels if self.hyper_channels is None else self.hyper_channels

    @property
    def effective_entropy_model(self) -> EntropyModelName:
        if self.entropy_model is not None:
            return self.entropy_model
        return "scale_hyperprior" if self.hyperprior else "factorized"

    @property
    def has_means(self) -> bool:
        """Whether the latent is coded around predicted means (mean-scale or context model)."""
        return self.effective_entropy_model in ("mean_scale_hyperprior", "context")

    @property
    def spatial_passes(self) -> int:
        """Network passes per channel group that refine the means (1: no spatial context)."""
        if self.effective_entropy_model != "context":
            return 1
        return 2 if self.context_grid == "checkerboard" else 4

    @property
    def analysis_stages(self) -> tuple[StageSpec, ...]:
        return self.encoder_stages or self._uniform_stages()

    @property
    def synthesis_stages(self) -> tuple[StageSpec, ...]:
        return self.decoder_stages or self._uniform_stages()

    @property
    def group_channels(self) -> tuple[int, ...]:
        """Latent channels of each channel group, in coding order."""
        size = self.latent_channels // self.channel_groups
        return (size,) * self.channel_groups

    @property
    def tile_core(self) -> int:
        """Pixels a side that a tile keeps after its margins are cropped (PICO: 504)."""
        return self.tile_size - 2 * self.tile_margin

    def _uniform_stages(self) -> tuple[StageSpec, ...]:
        spec = StageSpec(self.channels, self.blocks_per_stage, self.expansion, self.kernel_size)
        return (spec,) * (self.stages - 1)

    def validate(self) -> None:
        """Raise ValueError naming the first bad field and its value."""
        for name in (
            "channels",
            "latent_channels",
            "stages",
            "blocks_per_stage",
            "expansion",
            "kernel_size",
            "channel_groups",
            "rate_points",
            "tile_size",
            "tile_margin",
        ):
            _require_int(name, getattr(self, name))
        _require_positive("channels", self.channels)
        _require_positive("latent_channels", self.latent_channels)
        if not MIN_STAGES <= self.stages <= MAX_STAGES:
            raise ValueError(
                f"stages must be in {MIN_STAGES}..{MAX_STAGES}, got stages={self.stages!r}"
            )
        _require_choice("block", self.block, BLOCK_KINDS)
        _require_choice("activation", self.activation, ACTIVATIONS)
        _require_bool("hyperprior", self.hyperprior)
        if self.blocks_per_stage < 0:
            raise ValueError(
                f"blocks_per_stage must be >= 0, got blocks_per_stage={self.blocks_per_stage!r}"
            )
        _require_positive("expansion", self.expansion)
        _require_odd_kernel("kernel_size", self.kernel_size)
        if self.hyper_channels is not None:
            _require_int("hyper_channels", self.hyper_channels)
            _require_positive("hyper_channels", self.hyper_channels)
        self._validate_stages()
        _require_choice("resampling", self.resampling, RESAMPLINGS)
        self._validate_entropy_model()
        if not 1 <= self.rate_points <= MAX_RATE_POINTS:
            raise ValueError(
                f"rate_points must be in 1..{MAX_RATE_POINTS}, got rate_points={self.rate_points!r}"
            )
        self._validate_tiling()

    def _validate_stages(self) -> None:
        for name in ("encoder_stages", "decoder_stages"):
            specs = getattr(self, name)
            if not isinstance(specs, tuple):
                raise ValueError(f"{name} must be a tuple of StageSpec, got {name}={specs!r}")
            if specs and len(specs) != self.stages - 1:
                raise ValueError(
                    f"{name} needs one StageSpec per level 1..stages-1 ({self.stages - 1} for "
                    f"stages={self.stages}), got {len(specs)}"
                )
            for level, spec in enumerate(specs, start=1):
                if not isinstance(spec, StageSpec):
                    raise ValueError(f"{name}[{level - 1}] must be a StageSpec, got {spec!r}")
                spec.validate(f"{name}[{level - 1}]")

    def _validate_entropy_model(self) -> None:
        if self.entropy_model is not None:
            _require_choice("entropy_model", self.entropy_model, ENTROPY_MODELS)
            if self.hyperprior != (self.entropy_model != "factorized"):
                raise ValueError(
                    f"hyperprior={self.hyperprior!r} contradicts "
                    f"entropy_model={self.entropy_model!r}"
                )
        _require_choice("context_grid", self.context_grid, CONTEXT_GRIDS)
        _require_bool("learned_width", self.learned_width)
        _require_positive("channel_groups", self.channel_groups)
        if self.channel_groups > 1 and not self.has_means:
            raise ValueError(
                f"channel_groups={self.channel_groups!r} needs a mean-scale or context model, "
                f"not {self.effective_entropy_model!r}"
            )
        if self.learned_width and not self.has_means:
            raise ValueError(
                f"learned_width=True needs a mean-scale or context model, "
                f"not {self.effective_entropy_model!r}"
            )
        if self.latent_channels % self.channel_groups:
            raise ValueError(
                f"channel_groups={self.channel_groups!r} must divide "
                f"latent_channels={self.latent_channels!r}"
            )

    def _validate_tiling(self) -> None:
        if self.tile_margin < 0:
            raise ValueError(f"tile_margin must be >= 0, got tile_margin={self.tile_margin!r}")
        if self.tile_core < 1:
            raise ValueError(
                f"tile_size={self.tile_size!r} leaves no core inside a margin of "
                f"{self.tile_margin} pixels on each side"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable field values (stage specs as lists of dicts)."""
        values = asdict(self)
        for name in ("encoder_stages", "decoder_stages"):
            values[name] = [dict(spec) for spec in values[name]]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CodecArchitecture:
        """Inverse of to_dict; rejects unknown keys and validates the result."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown CodecArchitecture fields: {unknown}")
        values = dict(values)
        for name in ("encoder_stages", "decoder_stages"):
            if name in values:
                values[name] = tuple(_stage_from(spec) for spec in values[name])
        arch = cls(**values)
        arch.validate()
        return arch


def _stage_from(spec: Any) -> StageSpec:
    if isinstance(spec, StageSpec):
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f"a stage must be a mapping of StageSpec fields, got {spec!r}")
    return StageSpec(**spec)


def _require_int(name: str, value: object) -> None:
    # bool is an int subclass; True as a channel count is always a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {name}={value!r}")


def _require_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        # ValueError, not TypeError: callers catch one error type for any bad field.
        raise ValueError(f"{name} must be a bool, got {name}={value!r}")


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {name}={value!r}")


def _require_odd_kernel(name: str, value: int) -> None:
    if value < 1 or value % 2 == 0:
        raise ValueError(
            f"{name} must be a positive odd int (keeps 'same' padding symmetric), "
            f"got {name}={value!r}"
        )


def _require_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {name}={value!r}")
