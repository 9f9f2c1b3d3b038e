"""The `funnel:` section of a campaign spec (with `mode: funnel`; the MACs band is `screen:`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codec.loss_weights import LossWeights

# Bounds shared with nas.spec (which imports this module): only a typo or a runaway value
# meets them.
MAX_STEPS = 10_000_000
MAX_SEED = 2**32 - 1


class _Strict(BaseModel):
    # As nas.spec: no coercion of booleans or strings into numbers, no NaN or infinities.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _known_losses(weights: dict[str, float]) -> dict[str, float]:
    LossWeights.from_mapping(weights)  # raises ValueError naming an unknown or bad weight
    return weights


class MeasureSpec(_Strict):
    """Measurements on the agents: a random bootstrap, then active-learning rounds."""

    bootstrap: int = Field(
        default=10, ge=3, le=10_000, description="random in-band configs measured to fit the model"
    )
    configs: int = Field(default=40, ge=1, le=1_000_000, description="configs measured in total")
    batch: int = Field(default=10, ge=1, le=10_000, description="configs measured per round")
    timeout_s: float = Field(
        default=900.0,
        gt=0,
        le=7 * 86_400,
        description="how long to wait for the agents on one round",
    )

    @model_validator(mode="after")
    def _batch_fits(self) -> MeasureSpec:
        if self.batch > self.configs:
            raise ValueError(f"batch {self.batch} is above configs {self.configs}")
        return self


class ProxySpec(_Strict):
    """Short MSE-only training of the measured survivors (rung 0); the best `keep` go on."""

    configs: int = Field(default=6, ge=1, le=100_000, description="most configs proxy-trained")
    steps: int = Field(default=50, gt=0, le=MAX_STEPS)
    loss: dict[str, float] = Field(default_factory=lambda: {"mse": 1.0})
    keep: int = Field(default=2, ge=1, le=100_000, description="top K promoted to full training")
    promote_by: list[str] | None = Field(
        default=None,
        min_length=1,
        description="objectives ranked for promotion (default: all); PICO ranked by quality "
        "alone, since every survivor already meets the latency target",
    )

    _check_loss = field_validator("loss")(_known_losses)

    @model_validator(mode="after")
    def _keep_fits(self) -> ProxySpec:
        if self.keep > self.configs:
            raise ValueError(f"keep {self.keep} is above configs {self.configs}")
        return self


class FullSpec(_Strict):
    """Full training (rung 1); unset values come from the spec's `training:` section."""

    steps: int | None = Field(default=None, gt=0, le=MAX_STEPS)
    loss: dict[str, float] | None = None

    @field_validator("loss")
    @classmethod
    def _check_loss(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        return None if weights is None else _known_losses(weights)


class FunnelSpec(_Strict):
    configs: int = Field(
        default=1_000_000, ge=1, le=20_000_000, description="configs sampled for the MACs screen"
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    latency_target_ms: float = Field(
        gt=0, le=3_600_000, description="decoder time of a 12 MP photo on the agents' device (ms)"
    )
    tolerance: float = Field(
        default=0.05, gt=0, lt=1, description="keep configs within +-tolerance of the target"
    )
    measure: MeasureSpec = MeasureSpec()
    proxy: ProxySpec = ProxySpec()
    full: FullSpec = FullSpec()

    @property
    def band_ms(self) -> tuple[float, float]:
        """The latency band: target times (1 - tolerance) to target times (1 + tolerance)."""
        return (
            self.latency_target_ms * (1 - self.tolerance),
            self.latency_target_ms * (1 + self.tolerance),
        )
