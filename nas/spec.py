"""Campaign specs: YAML validated with pydantic; every mistake is named with its path and value."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from codec.loss_weights import LossWeights
from nas.errors import SpecError
from nas.funnel.spec import MAX_SEED, MAX_STEPS, FunnelSpec
from nas.metrics import KNOWN_METRICS
from nas.spec_yaml import SpecYamlError, load_spec_yaml
from search_spaces import get_space, space_names

# Upper bounds of the numbers a spec takes (MAX_STEPS, MAX_SEED in nas.funnel.spec): far beyond
# any sensible value, so only a typo or a runaway value meets them (99999999999999999999 steps
# would otherwise run "forever").
MAX_KMACS = 1e7


class _Strict(BaseModel):
    # strict: `steps: true` or `steps: "5"` is a mistake to name, not a value to coerce; NaN and
    # infinities are never a setting.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _known_metric(name: str) -> str:
    if name not in KNOWN_METRICS:
        raise ValueError(f"unknown metric {name!r}; known metrics: {sorted(KNOWN_METRICS)}")
    return name


class ObjectiveSpec(_Strict):
    metric: str
    direction: Literal["minimize", "maximize"] | None = None
    reference: float | None = Field(default=None, description="hypervolume reference value")

    _check_metric = field_validator("metric")(_known_metric)

    @property
    def resolved_direction(self) -> str:
        return self.direction or KNOWN_METRICS[self.metric].direction

    @property
    def resolved_reference(self) -> float:
        return KNOWN_METRICS[self.metric].reference if self.reference is None else self.reference


class ConstraintSpec(_Strict):
    metric: str
    max: float | None = None
    min: float | None = None

    _check_metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _has_a_bound(self) -> ConstraintSpec:
        if self.max is None and self.min is None:
            raise ValueError(f"constraint on {self.metric!r} needs 'max' or 'min'")
        return self

    def violation(self, value: float) -> float:
        """How far `value` is outside the bounds (<= 0 when satisfied), as Optuna expects."""
        over = value - self.max if self.max is not None else float("-inf")
        under = self.min - value if self.min is not None else float("-inf")
        return max(over, under)


class SamplerSpec(_Strict):
    kind: Literal["tpe", "nsga2", "random"] = "tpe"
    seed: int | None = Field(default=0, ge=0, le=MAX_SEED)
    population_size: int = Field(default=8, ge=2, le=100_000, description="NSGA-II population")
    startup_trials: int = Field(
        default=4, ge=0, le=1_000_000, description="random trials before TPE models"
    )


class ScreenSpec(_Strict):
    """Configs outside these MACs-per-pixel bands are never trained (PICO's funnel, step 2)."""

    decoder_kmacs_min: float | None = Field(default=None, ge=0, le=MAX_KMACS)
    decoder_kmacs_max: float | None = Field(default=None, gt=0, le=MAX_KMACS)
    encoder_kmacs_min: float | None = Field(default=None, ge=0, le=MAX_KMACS)
    encoder_kmacs_max: float | None = Field(default=None, gt=0, le=MAX_KMACS)

    @model_validator(mode="after")
    def _ordered(self) -> ScreenSpec:
        for side in ("decoder", "encoder"):
            low, high = getattr(self, f"{side}_kmacs_min"), getattr(self, f"{side}_kmacs_max")
            if low is not None and high is not None and low > high:
                raise ValueError(f"{side}_kmacs_min {low} is above {side}_kmacs_max {high}")
        return self

    def admits(self, encoder_kmacs: float, decoder_kmacs: float) -> bool:
        def inside(value: float, low: float | None, high: float | None) -> bool:
            return (low is None or value >= low) and (high is None or value <= high)

        return inside(decoder_kmacs, self.decoder_kmacs_min, self.decoder_kmacs_max) and inside(
            encoder_kmacs, self.encoder_kmacs_min, self.encoder_kmacs_max
        )


class BudgetSpec(_Strict):
    trials: int = Field(gt=0, le=1_000_000)
    parallel: int = Field(default=2, gt=0, le=1024)
    max_attempts: int = Field(default=2, gt=0, le=10)


# codec.devices.DEVICE_NAMES, spelt out so that the schema and the error list the choices.
DeviceName = Literal["auto", "cpu", "cuda", "mps"]


# training.init: the two names; anything else is the path of a model folder.
INIT_NEAREST = "nearest"
INIT_SCRATCH = "scratch"


class TrainingSpec(_Strict):
    steps: int = Field(gt=0, le=MAX_STEPS)
    batch_size: int = Field(default=8, gt=0, le=256)
    crop_size: int = Field(default=96, ge=32, le=1024)
    learning_rate: float = Field(default=1e-3, gt=0, lt=1)
    lmbda: float = Field(default=0.013, gt=0, le=100)
    quality_metric: Literal["psnr", "ms_ssim", "ssimulacra2", "flip"] = "psnr"
    anchor: Literal["jpeg", "webp", "avif", "jxl"] = "jpeg"
    loss: dict[str, float] = Field(
        default_factory=lambda: {"mse": 1.0},
        description="weights of mse, ms_ssim, tiling, text (TextFidelityLoss) in the distortion",
    )
    text_fraction: float | None = Field(default=None, ge=0, le=1)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    init: str = Field(
        default=INIT_NEAREST,
        min_length=1,
        description="what each trial's weights start from: 'nearest' (the trained trial of this "
        "campaign with the closest config), 'scratch', or a model folder (config.json + model.pt)",
    )
    init_fallback: str | None = Field(
        default=None,
        min_length=1,
        description="with init 'nearest': the model folder trials start from while no trial of "
        "the campaign has trained weights yet (None: they start from scratch)",
    )
    warmup_steps: int = Field(
        default=0,
        ge=0,
        le=MAX_STEPS,
        description="steps over which the learning rate ramps up from 0",
    )
    device: DeviceName = Field(
        default="auto",
        description="auto: the GPU Ray gave the trial (cluster.gpus_per_trial), else the CPU",
    )
    mixed_precision: bool = Field(
        default=True, description="bfloat16 autocast when training on CUDA; no effect elsewhere"
    )

    @model_validator(mode="after")
    def _fallback_needs_nearest(self) -> TrainingSpec:
        if self.init_fallback is not None and self.init != INIT_NEAREST:
            raise ValueError(
                f"init_fallback is used with init {INIT_NEAREST!r} only, not with {self.init!r}"
            )
        return self

    @field_validator("loss")
    @classmethod
    def _known_losses(cls, weights: dict[str, float]) -> dict[str, float]:
        LossWeights.from_mapping(weights)  # raises ValueError naming an unknown or bad weight
        return weights


class DataSpec(_Strict):
    train: str = Field(description="image folder, or skimage:NAME,NAME for bundled photos")
    eval: str = Field(description="image folder, or skimage:NAME,NAME; separate from train")

    @model_validator(mode="after")
    def _separate(self) -> DataSpec:
        if self.train.strip() == self.eval.strip():
            raise ValueError(f"data.train and data.eval are the same source {self.train!r}")
        return self


class BenchmarkSpec(_Strict):
    backend: Literal["onnxruntime"] = "onnxruntime"
    tile: int = Field(default=512, ge=64, le=2048)
    warmup: int = Field(default=2, ge=0, le=100)
    runs: int = Field(default=10, ge=1, le=10_000)
    clock: Literal["wall", "cpu"] = Field(
        default="wall",
        description="the in-process funnel agent's clock: cpu (thread CPU time, 1 thread) "
        "resists other jobs sharing the machine",
    )
    agents: Literal["local", "external"] = Field(
        default="local",
        description="funnel measurements: an in-process agent (local) or `codecnas agent` "
        "processes connected to `codecnas serve` on the same database (external)",
    )


class ClusterSpec(_Strict):
    address: str | None = Field(default=None, description="Ray address; None starts Ray locally")
    cpus_per_trial: float = Field(
        default=1.0,
        gt=0,
        le=1024,
        description="CPUs Ray reserves for each trial; checked against the cluster at launch",
    )
    gpus_per_trial: float = Field(
        default=0.0, ge=0, le=64, description="GPUs Ray reserves for each trial; 0: trials use none"
    )


class CampaignSpec(_Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    space: str = "pico"
    objectives: list[ObjectiveSpec] = Field(min_length=1, max_length=4)
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    sampler: SamplerSpec = SamplerSpec()
    fixed: dict[str, Any] = Field(
        default_factory=dict, description="parameters held at one value: the search skips them"
    )
    screen: ScreenSpec = ScreenSpec()
    budget: BudgetSpec
    training: TrainingSpec
    data: DataSpec
    benchmark: BenchmarkSpec = BenchmarkSpec()
    cluster: ClusterSpec = ClusterSpec()
    mode: Literal["standard", "funnel"] = "standard"
    funnel: FunnelSpec | None = None

    @model_validator(mode="after")
    def _funnel_section_matches_mode(self) -> CampaignSpec:
        if self.mode == "funnel" and self.funnel is None:
            raise ValueError("mode 'funnel' needs a 'funnel:' section")
        if self.mode == "standard" and self.funnel is not None:
            raise ValueError("a 'funnel:' section needs 'mode: funnel'")
        if self.funnel is not None:
            unknown = sorted(set(self.funnel.proxy.promote_by or ()) - set(self.objective_names))
            if unknown:
                raise ValueError(
                    f"funnel.proxy.promote_by names {unknown}, which are not objectives "
                    f"{self.objective_names}"
                )
            trained = self.funnel.proxy.configs + self.funnel.proxy.keep
            if trained > self.budget.trials:
                raise ValueError(
                    f"budget.trials {self.budget.trials} is below the funnel's trials: "
                    f"proxy.configs {self.funnel.proxy.configs} + proxy.keep "
                    f"{self.funnel.proxy.keep} = {trained}"
                )
        return self

    @model_validator(mode="after")
    def _accelerator_is_reserved(self) -> CampaignSpec:
        # A trial uses a GPU only when Ray reserved one for it; "auto" then falls back to the CPU.
        device = self.training.device
        if device in ("cuda", "mps") and self.cluster.gpus_per_trial <= 0:
            raise ValueError(
                f"training.device {device!r} needs cluster.gpus_per_trial > 0 (Ray reserves "
                "a GPU only for a trial that asks for one); or use device 'auto'"
            )
        return self

    @field_validator("space")
    @classmethod
    def _known_space(cls, name: str) -> str:
        if name not in space_names():
            raise ValueError(f"unknown search space {name!r}; known spaces: {space_names()}")
        return name

    @model_validator(mode="after")
    def _fixed_belong_to_the_space(self) -> CampaignSpec:
        space = get_space(self.space)
        for name, value in self.fixed.items():
            if name not in space.param_names:
                raise ValueError(f"fixed: {name!r} is not a parameter of space {self.space!r}")
            problem = space.param(name).check(value)
            if problem:
                raise ValueError(f"fixed: {name}: {problem}")
        return self

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, objectives: list[ObjectiveSpec]) -> list[ObjectiveSpec]:
        names = [o.metric for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objectives repeat a metric: {names}")
        return objectives

    @property
    def objective_names(self) -> list[str]:
        return [o.metric for o in self.objectives]

    def score(self, metrics: Mapping[str, float]) -> tuple[dict[str, float], bool]:
        """A finished trial's objectives and whether it meets every constraint.

        ValueError naming the objectives the worker did not report: such a trial fails.
        """
        missing = [m for m in self.objective_names if m not in metrics]
        if missing:
            raise ValueError(f"worker did not report objective metric(s) {missing}")
        feasible = all(
            c.metric in metrics and c.violation(metrics[c.metric]) <= 0 for c in self.constraints
        )
        return {m: metrics[m] for m in self.objective_names}, feasible

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{source}: {path}: unknown key")
        elif item["type"] == "missing":
            lines.append(f"{source}: {path}: required key is missing")
        else:
            message = item["msg"].removeprefix("Value error, ")
            value = item.get("input")
            # A whole section as "the value" says nothing: name scalars and lists only.
            shown = "" if isinstance(value, dict) else f" (got {value!r})"
            lines.append(f"{source}: {path}: {message}{shown}")
    return "\n".join(lines)


def parse_spec(data: Any, source: str = "spec") -> CampaignSpec:
    """Validate a mapping (already parsed YAML/JSON) into a spec, or raise SpecError."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a campaign spec must be a mapping, got {type(data).__name__}")
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_describe(exc, source)) from None


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a YAML campaign spec."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: the spec is not UTF-8 text") from None
    return parse_spec_text(text, source=str(path))


def parse_spec_text(text: str, source: str = "spec") -> CampaignSpec:
    """Validate the text of a spec file (YAML, so JSON too), or raise SpecError."""
    try:
        data = load_spec_yaml(text)
    except SpecYamlError as exc:
        raise SpecError(f"{source}: {exc}") from None
    return parse_spec(data, source=source)
