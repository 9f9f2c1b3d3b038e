"""Multiply-accumulates per image pixel of a codec's encoder and decoder, without building it.

Counts what runs at inference (folded layers: ConvScale and Haar add nothing), convolutions
only, as torch.utils.flop_counter does (a transposed convolution costs k*k*C_in*C_out per
*input* position; element-wise ops and the entropy coder are free). The encoder runs the
analysis transform, the hyper-encoder, the scale decoder and, for mean-scale and context
models, the mean network and its passes; the decoder runs all of those except the analysis
transform and the hyper-encoder.

The helpers are plain arithmetic on channel counts and kernel sizes, so they work unchanged on
numpy arrays holding many configs at once (categorical knobs pick which helper to apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codec.architecture import CHANNEL_NORMALIZATIONS, CodecArchitecture, StageSpec
from codec.transforms import HYPER_RESAMPLING, HYPER_STAGES

# MACs per low-resolution position per (input channel x output channel) of a 2x resampling:
# a 5x5 strided (or transposed) convolution, or a 1x1 convolution over 4x the channels.
RESAMPLING_FACTOR = {"conv": 25, "haar": 4, "pixel_shuffle": 4}
SCALE_KERNEL_AREA = 9  # the scale decoder's and context model's 3x3 convolutions


@dataclass(frozen=True)
class MacsPerPixel:
    encoder: float
    decoder: float

    def to_dict(self) -> dict[str, float]:
        return {"encoder": float(self.encoder), "decoder": float(self.decoder)}


def block_macs(kind: str, channels: Any, expansion: Any, kernel: Any) -> Any:
    """MACs per position of one backbone block."""
    if kind == "conv":
        return kernel * kernel * channels * channels
    if kind == "residual":
        return 2 * kernel * kernel * channels * channels
    if kind in ("inverted_residual", "convscale"):
        # 1x1 expand, depthwise kxk, 1x1 project.
        return channels * expansion * (2 * channels + kernel * kernel)
    raise ValueError(f"unknown block kind {kind!r}")


def level_activation_macs(activation: str, channels: Any) -> Any:
    """MACs per position of what follows a resampling: GDN's 1x1 conv over x^2, else none."""
    return channels * channels if activation in CHANNEL_NORMALIZATIONS else 0


def resampling_macs(kind: str, in_channels: Any, out_channels: Any) -> Any:
    """MACs per low-resolution position of one 2x down- or up-sampling."""
    return RESAMPLING_FACTOR[kind] * in_channels * out_channels


def _transform_macs(arch: CodecArchitecture, stages: tuple[StageSpec, ...]) -> float:
    """Analysis or synthesis transform per pixel; both have the same shape of cost."""
    total = 0.0
    previous = 3
    for level, spec in enumerate(stages, start=1):
        area = 4.0**-level
        total += area * resampling_macs(arch.resampling, previous, spec.channels)
        total += area * level_activation_macs(arch.activation, spec.channels)
        total += (
            area
            * spec.repeats
            * block_macs(arch.block, spec.channels, spec.expansion, spec.kernel_size)
        )
        previous = spec.channels
    total += 4.0**-arch.stages * resampling_macs(arch.resampling, previous, arch.latent_channels)
    return total


def hyper_encoder_macs(stages: int, latent: Any, hyper: Any) -> Any:
    """3x3 conv at the latent, then two strided 5x5 convs."""
    y_area, z_area = 4.0**-stages, 4.0 ** -(stages + HYPER_STAGES)
    down = resampling_macs(HYPER_RESAMPLING, hyper, hyper)
    return y_area * 9 * latent * hyper + 4 * z_area * down + z_area * down


def scale_decoder_macs(stages: int, latent: Any, hyper: Any) -> Any:
    """Two 3x3 convs to 4x channels (then depth-to-space), a 3x3 conv to the latent's indexes."""
    y_area, z_area = 4.0**-stages, 4.0 ** -(stages + HYPER_STAGES)
    widen = SCALE_KERNEL_AREA * hyper * 4 * hyper
    return z_area * widen + 4 * z_area * widen + y_area * SCALE_KERNEL_AREA * hyper * latent


def mean_network_macs(
    stages: int,
    latent: Any,
    hyper: Any,
    groups: int,
    passes: int,
    learned_width: bool,
) -> Any:
    """Hyper features (two transposed 5x5 convs) plus every group's context passes."""
    y_area, z_area = 4.0**-stages, 4.0 ** -(stages + HYPER_STAGES)
    up = resampling_macs(HYPER_RESAMPLING, hyper, hyper)
    total = z_area * up + 4 * z_area * up
    group = latent / groups
    outputs = group * (2 if learned_width else 1)
    for g in range(groups):
        hyper_in = SCALE_KERNEL_AREA * (hyper + g * group) * hyper  # once per group
        spatial_in = (passes - 1) * SCALE_KERNEL_AREA * group * hyper  # every pass but the first
        head = passes * (hyper * hyper + hyper * outputs)  # two 1x1 convs every pass
        total = total + y_area * (hyper_in + spatial_in + head)
    return total


def macs_per_pixel(arch: CodecArchitecture) -> MacsPerPixel:
    """Encoder and decoder MACs per pixel of `arch` (validated first)."""
    arch.validate()
    encoder = _transform_macs(arch, arch.analysis_stages)
    decoder = _transform_macs(arch, arch.synthesis_stages)
    if arch.effective_entropy_model == "factorized":
        return MacsPerPixel(encoder, decoder)
    s, m, hc = arch.stages, arch.latent_channels, arch.effective_hyper_channels
    shared = scale_decoder_macs(s, m, hc)
    if arch.has_means:
        shared += mean_network_macs(
            s, m, hc, arch.channel_groups, arch.spatial_passes, arch.learned_width
        )
    return MacsPerPixel(encoder + hyper_encoder_macs(s, m, hc) + shared, decoder + shared)
