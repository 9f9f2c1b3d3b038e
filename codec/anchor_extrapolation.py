"""Whether a bits-vs-anchor ratio was extrapolated, and the words every surface shows for it.

A ratio compares the codec's bpp with the anchor's bpp at the same quality, read off the anchor's
measured rate–quality curve of each image (codec/anchors.py). Where the codec's quality lies
outside that curve, the anchor's bpp, and so the ratio, is extrapolated: an estimate, not a
measurement. codec/evaluation.py records this per image ("anchor_extrapolated", 0 or 1) and as
the share of the eval images ("anchor_extrapolated_fraction", with "images" beside it).

The one rule, used by the CLI tables, the dashboard and `codecnas codec eval`: a ratio is flagged
as soon as one image's ratio was extrapolated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

FRACTION_KEY = "anchor_extrapolated_fraction"  # a summary: share of the eval images
IMAGE_KEY = "anchor_extrapolated"  # one image's row: 1.0 when extrapolated
IMAGES_KEY = "images"
RATIO_PREFIX = "quality_ratio_vs_"  # quality_ratio_vs_anchor, quality_ratio_vs_jpeg, ...
IMAGE_RATIO = "bitrate_ratio_vs_anchor"  # one image's ratio
MARKER = "*"
FOOTNOTE = (
    f"{MARKER} extrapolated: on some eval images the codec's quality lies outside the anchor's "
    "measured rate–quality curve, so the anchor's bpp there, and the ratio, is an estimate"
)


def is_anchor_ratio(metric: str) -> bool:
    """Whether `metric` is a codec-bits / anchor-bits ratio at equal quality."""
    return metric.startswith(RATIO_PREFIX) or metric == IMAGE_RATIO


@dataclass(frozen=True)
class Extrapolation:
    """The eval images whose anchor bpp was extrapolated (at least one)."""

    fraction: float  # share of the eval images, in (0, 1]
    images: int | None  # how many eval images there were, when recorded

    @property
    def count(self) -> int | None:
        return None if self.images is None else max(1, round(self.fraction * self.images))

    @property
    def share(self) -> str:
        """'4/6' (images), or '67%' when the image count is not recorded."""
        return f"{self.fraction:.0%}" if self.images is None else f"{self.count}/{self.images}"

    @property
    def note(self) -> str:
        """Short text shown beside a flagged ratio: 'extrap. 4/6 images'."""
        if self.images is None:
            return f"extrap. {self.share} of images"
        return f"extrap. {self.share} image{'s' if self.images != 1 else ''}"

    def to_dict(self) -> dict[str, object]:
        return {"fraction": self.fraction, "images": self.images, "note": self.note}


def extrapolation(metrics: Mapping[str, float]) -> Extrapolation | None:
    """The extrapolation behind the ratios of a summary (or of one image's row); None when no
    image was extrapolated or nothing says so."""
    if FRACTION_KEY in metrics:
        fraction, images = metrics[FRACTION_KEY], metrics.get(IMAGES_KEY)
    elif IMAGE_KEY in metrics:
        fraction, images = metrics[IMAGE_KEY], 1.0
    else:
        return None
    if not math.isfinite(fraction) or fraction <= 0:
        return None
    known = images is not None and math.isfinite(images) and images >= 1
    count = round(images) if images is not None and known else None
    return Extrapolation(min(float(fraction), 1.0), count)


def ratio_note(metric: str, metrics: Mapping[str, float]) -> str | None:
    """The note for `metric` of a trial (or summary) with these metrics, when it is flagged."""
    if not is_anchor_ratio(metric):
        return None
    found = extrapolation(metrics)
    return None if found is None else found.note


def flag(text: str, metric: str, metrics: Mapping[str, float]) -> str:
    """`text`, a formatted value of `metric`, with MARKER appended when it is flagged."""
    return text + MARKER if ratio_note(metric, metrics) is not None else text


def flagged_ratios(metrics: Mapping[str, float]) -> dict[str, str]:
    """{metric: note} for each anchor ratio among `metrics` that is flagged."""
    return {name: note for name in metrics if (note := ratio_note(name, metrics)) is not None}
