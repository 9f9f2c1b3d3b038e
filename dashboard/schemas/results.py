"""Result bodies: pages of trials, one trial, scatter and front, hypervolume, best for budget."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dashboard.schemas.common import ArtifactOut, MeasurementOut, TrialOut


class TrialPageOut(BaseModel):
    total: int = Field(description="trials matching the filter, on all pages")
    offset: int
    limit: int
    sort: str
    order: str
    items: list[TrialOut]


class TrialDetailOut(BaseModel):
    trial: TrialOut
    campaign_name: str
    on_front: bool
    per_image: dict[str, dict[str, float]] = Field(description="metrics of each eval image")
    measurements: list[MeasurementOut]
    artifacts: list[ArtifactOut]
    images: list[str] = Field(description="eval images with a stored reconstruction")


class FrontOut(BaseModel):
    """Every complete trial with both metrics as parallel arrays (compact for 10,000 points)."""

    x: str
    y: str
    x_direction: str
    y_direction: str
    device: str | None
    trial_ids: list[int]
    numbers: list[int]
    xs: list[float]
    ys: list[float]
    feasible: list[bool]
    stored_front: list[bool] = Field(description="on the campaign's stored Pareto front")
    extrapolated_metric: str | None = Field(
        description="x or y when it is an anchor ratio (y first): what `extrapolated` is about"
    )
    extrapolated: list[str | None] = Field(
        description="per point, when that ratio was computed outside the anchor's measured "
        "quality range on some eval images: a note ('extrap. 4/6 images'), else null"
    )
    front_ids: list[int] = Field(
        description="the non-dominated feasible trials in these two metrics, ordered by x"
    )
    best_from_front: bool = Field(
        description="best-for-budget (x as budget, y as quality) picks among the stored front "
        "only, as `codecnas best` does when both metrics are objectives; else among all points"
    )


class HypervolumePointOut(BaseModel):
    n_complete: int
    hypervolume: float


class HypervolumeOut(BaseModel):
    total: int = Field(description="recorded points before thinning")
    points: list[HypervolumePointOut]


class BestOut(BaseModel):
    fits: bool
    message: str
    budget: float
    budget_metric: str
    quality_metric: str
    device: str | None
    trial: TrialOut | None = Field(description="the choice, or the nearest trial if none fits")
    objectives: dict[str, float] | None
    measurements: list[MeasurementOut]
    artifacts: list[ArtifactOut] = Field(description="config, weights, ONNX, Core ML, ...")


class CurvePoint(BaseModel):
    bpp: float
    psnr: float
    quality: int | None = None


class ImageCurves(BaseModel):
    image: str
    trial: CurvePoint | None
    jpeg: list[CurvePoint]
    avif: list[CurvePoint]


class RateQualityOut(BaseModel):
    trial: CurvePoint | None = Field(description="the trial's mean bpp and PSNR")
    front: list[CurvePoint] = Field(description="mean bpp and PSNR of the front's trials")
    jpeg: list[CurvePoint] = Field(description="mean over images at each quality setting")
    avif: list[CurvePoint]
    images: list[ImageCurves]


class AnchorOut(BaseModel):
    codec: str
    quality: int
    bpp: float
    psnr: float
    url: str


class ImageVariantsOut(BaseModel):
    image: str
    trial_bpp: float | None
    trial_psnr: float | None
    original_url: str
    reconstruction_url: str | None
    anchors: list[AnchorOut] = Field(description="JPEG and AVIF at the trial's bpp")
