"""Latent codecs: how the latent y is quantized, modelled and turned into symbols.

Each codec has a training path (`forward`: y -> y_hat and likelihoods) and a coding path:
`symbols` (y -> the integers the bitstream holds), `encode`/`decode` (symbols <-> entropy
coder), `dequantize` (symbols -> y_hat for the synthesis transform). The coding path takes a
`scale_indexes` function, the integer scale decoder, so the tables are chosen bit-exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from codec.architecture import CodecArchitecture
from codec.context_model import ContextModel
from codec.entropy import FactorizedDensity, GaussianConditional, LatentDecoder, LatentEncoder
from codec.entropy.scale_decoder import ScaleDecoder
from codec.transforms import hyper_analysis_transform

Latents = dict[str, torch.Tensor]
ScaleIndexes = Callable[[torch.Tensor], torch.Tensor]  # z_hat -> int64 table indexes of y


def quantize(latent: torch.Tensor, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(value for the likelihood, value for the next transform).

    Training: additive uniform noise for the likelihood, straight-through rounding for the
    transform, which sees exactly what the decoder will see. Eval: rounding for both, so the
    rate estimate matches the real bitstream.
    """
    rounded = torch.round(latent)
    if not training:
        return rounded, rounded
    noisy = latent + torch.empty_like(latent).uniform_(-0.5, 0.5)
    return noisy, latent + (rounded - latent).detach()


class FactorizedLatentCodec(nn.Module):
    """y coded with one learned density per channel (Balle et al. 2017)."""

    def __init__(self, arch: CodecArchitecture) -> None:
        super().__init__()
        self.y_density = FactorizedDensity(arch.latent_channels)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, Latents]:
        y_for_rate, y_hat = quantize(y, self.training)
        return y_hat, {"y": self.y_density.likelihood(y_for_rate)}

    def symbols(self, y: torch.Tensor) -> Latents:
        return {"y": torch.round(y)}

    def encode(self, symbols: Latents, encoder: LatentEncoder, scale_indexes: ScaleIndexes) -> None:
        self.y_density.encode(symbols["y"], encoder)

    def decode(
        self,
        decoder: LatentDecoder,
        y_shape: tuple[int, int, int, int],
        z_shape: tuple[int, int, int, int],
        scale_indexes: ScaleIndexes,
    ) -> Latents:
        return {"y": self.y_density.decode(y_shape, decoder)}

    def dequantize(self, symbols: Latents) -> torch.Tensor:
        return symbols["y"]


class HyperLatentCodec(nn.Module):
    """Scale hyperprior, mean-scale hyperprior or context model (Balle 2018, Minnen 2018, PICO).

    z = h_a(y) is coded with a factorized density; the integer scale decoder gives every element
    of y its table. Without means, y itself is coded (CompressAI's scale hyperprior, h_a of |y|);
    with means, the residuals round((y - mean) / width) are.
    """

    def __init__(self, arch: CodecArchitecture) -> None:
        super().__init__()
        hc = arch.effective_hyper_channels
        self.takes_abs = not arch.has_means
        self.h_a = hyper_analysis_transform(arch)
        self.h_s = ScaleDecoder(hc, hc, arch.latent_channels)
        self.z_density = FactorizedDensity(hc)
        self.y_gaussian = GaussianConditional()
        self.context = ContextModel(arch) if arch.has_means else None

    def _z(self, y: torch.Tensor) -> torch.Tensor:
        return self.h_a(torch.abs(y) if self.takes_abs else y)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, Latents]:
        z_for_rate, z_hat = quantize(self._z(y), self.training)
        scales = self.h_s.scales(z_hat)
        if self.context is None:
            y_for_rate, y_hat = quantize(y, self.training)
        else:
            y_for_rate, y_hat = self._run_context(y, z_hat, self.training)
        return y_hat, {
            "y": self.y_gaussian.likelihood(y_for_rate, scales),
            "z": self.z_density.likelihood(z_for_rate),
        }

    def _run_context(
        self, y: torch.Tensor, z_hat: torch.Tensor, training: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(residuals for the likelihood, y_hat), pass by pass as the decoder will see them."""
        assert self.context is not None
        slices = self.context.group_slices()
        residuals = [torch.zeros_like(y[:, s]) for s in slices]

        def step(
            g: int, _: int, mean: torch.Tensor, width: torch.Tensor, mask: torch.Tensor
        ) -> torch.Tensor:
            for_rate, rounded = quantize((y[:, slices[g]] - mean) / width, training)
            residuals[g] = residuals[g] + mask * for_rate
            return rounded * width + mean

        y_hat = self.context.run(z_hat, step)
        return torch.cat(residuals, dim=1), y_hat

    def symbols(self, y: torch.Tensor) -> Latents:
        z_hat = torch.round(self._z(y))
        if self.context is None:
            return {"z": z_hat, "y": torch.round(y)}
        residuals, _ = self._run_context(y, z_hat, training=False)
        return {"z": z_hat, "y": residuals}

    def encode(self, symbols: Latents, encoder: LatentEncoder, scale_indexes: ScaleIndexes) -> None:
        self.z_density.encode(symbols["z"], encoder)  # z first: the decoder needs it first
        indexes = _checked_indexes(scale_indexes(symbols["z"]), symbols["y"].shape)
        self.y_gaussian.encode_indexed(symbols["y"], indexes, encoder)

    def decode(
        self,
        decoder: LatentDecoder,
        y_shape: tuple[int, int, int, int],
        z_shape: tuple[int, int, int, int],
        scale_indexes: ScaleIndexes,
    ) -> Latents:
        z_hat = self.z_density.decode(z_shape, decoder)
        indexes = _checked_indexes(scale_indexes(z_hat), torch.Size(y_shape))
        return {"z": z_hat, "y": self.y_gaussian.decode_indexed(indexes, decoder)}

    def dequantize(self, symbols: Latents) -> torch.Tensor:
        if self.context is None:
            return symbols["y"]
        return self.context.dequantize(symbols["y"], symbols["z"])


def _checked_indexes(indexes: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    # A scale runner from another backend must answer for exactly the latent's elements.
    if indexes.shape != shape:
        raise ValueError(
            f"the scale decoder returned indexes of shape {tuple(indexes.shape)} for a latent "
            f"of shape {tuple(shape)}"
        )
    return indexes


def build_latent_codec(arch: CodecArchitecture) -> FactorizedLatentCodec | HyperLatentCodec:
    if arch.effective_entropy_model == "factorized":
        return FactorizedLatentCodec(arch)
    return HyperLatentCodec(arch)
