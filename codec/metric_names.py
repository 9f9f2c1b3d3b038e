"""The quality metrics' names, without loading the metrics (torch, the SSIMULACRA2 binding)."""

from __future__ import annotations

# codec/metrics.py checks at import that QUALITY_METRICS holds exactly these, in this order.
QUALITY_METRIC_NAMES = ("psnr", "ms_ssim", "ssimulacra2", "flip")
