"""Names of the trial metrics a campaign can optimise or constrain, with their defaults.

A worker reports these keys; a spec may only name these, so a typo is caught when the spec is
loaded, not after an hour of training.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    description: str
    direction: str  # the natural direction: "minimize" or "maximize"
    reference: float  # default hypervolume reference value (worst value still counted)


KNOWN_METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo(
            "quality_ratio_vs_jpeg",
            "codec bits / JPEG bits at equal quality, geometric mean over the eval images",
            "minimize",
            4.0,
        ),
        MetricInfo(
            "quality_ratio_vs_anchor",
            "codec bits / anchor codec bits at equal quality (the spec's training.anchor)",
            "minimize",
            4.0,
        ),
        MetricInfo("ssimulacra2", "mean SSIMULACRA2 on the eval images", "maximize", 0.0),
        MetricInfo("flip", "mean FLIP error on the eval images", "minimize", 1.0),
        MetricInfo(
            "decode_ms_12mp",
            "decoder p50 for a 4032x3024 image (tile count x tile p50)",
            "minimize",
            120_000.0,
        ),
        MetricInfo("decode_ms_tile", "decoder p50 for one tile", "minimize", 2_500.0),
        MetricInfo("bpp", "mean real bits per pixel on the eval images", "minimize", 4.0),
        MetricInfo("psnr", "mean PSNR (dB) on the eval images", "maximize", 20.0),
        MetricInfo("ms_ssim", "mean MS-SSIM on the eval images", "maximize", 0.8),
        MetricInfo("train_seconds", "wall time of training", "minimize", 3_600.0),
        MetricInfo(
            "rating_score",
            "Bradley-Terry score from blind pairwise ratings (Elo scale)",
            "maximize",
            1_000.0,
        ),
    )
}
