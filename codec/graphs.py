"""The encoder and decoder as stand-alone modules for export and latency measurement.

They run exactly the network work of compress() and decompress() (folded layers, the context
passes) at one fixed rate. Their "scales" come from the scale decoder's float twin: the same
convolutions, without the integer roundings an accelerator may lack, so close to but not equal
to the table scales. Bit-exact table indexes come from the integer graph
(LearnedCodec.scale_decoder_onnx).

Tensor names: encoder x -> (y_hat, z_hat, scales), decoder (y_hat, z_hat) -> (x_hat, scales);
factorized models drop z_hat and scales. y_hat is the coded symbols: the rounded latent, or for
mean-scale and context models the rounded residual round((y - mean) / width).
"""

from __future__ import annotations

import torch
from torch import nn

from codec.entropy.integer_scales import FloatScaleTwin
from codec.latent_codecs import HyperLatentCodec


class _Gain(nn.Module):
    """Multiplies by a fixed per-channel gain (variable-rate models), or passes through."""

    gain: torch.Tensor | None

    def __init__(self, gain: torch.Tensor | None) -> None:
        super().__init__()
        self.register_buffer("gain", gain, persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.gain is None else y * self.gain


class FactorizedDecoderGraph(nn.Module):
    """y_hat -> x_hat (unclamped, padded size)."""

    def __init__(self, synthesis: nn.Module, inverse_gain: torch.Tensor | None) -> None:
        super().__init__()
        self.synthesis = synthesis
        self.inverse_gain = _Gain(inverse_gain)

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.inverse_gain(y_hat))


class HyperpriorDecoderGraph(nn.Module):
    """(y_hat, z_hat) -> (x_hat, scales): context passes, synthesis, and the scale decoder."""

    def __init__(
        self,
        synthesis: nn.Module,
        latent: HyperLatentCodec,
        scale_twin: FloatScaleTwin,
        inverse_gain: torch.Tensor | None,
    ) -> None:
        super().__init__()
        self.synthesis = synthesis
        self.context = latent.context
        self.scale_twin = scale_twin
        self.inverse_gain = _Gain(inverse_gain)

    def forward(
        self, y_hat: torch.Tensor, z_hat: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        y = y_hat if self.context is None else self.context.dequantize(y_hat, z_hat)
        return self.synthesis(self.inverse_gain(y)), self.scale_twin(z_hat)


class FactorizedEncoderGraph(nn.Module):
    """x -> y_hat."""

    def __init__(self, analysis: nn.Module, gain: torch.Tensor | None) -> None:
        super().__init__()
        self.analysis = analysis
        self.gain = _Gain(gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(self.gain(self.analysis(x)))


class HyperpriorEncoderGraph(nn.Module):
    """x -> (y_hat, z_hat, scales): everything the sender computes before entropy coding."""

    def __init__(
        self,
        analysis: nn.Module,
        latent: HyperLatentCodec,
        scale_twin: FloatScaleTwin,
        gain: torch.Tensor | None,
    ) -> None:
        super().__init__()
        self.analysis = analysis
        self.latent = latent
        self.scale_twin = scale_twin
        self.gain = _Gain(gain)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        symbols = self.latent.symbols(self.gain(self.analysis(x)))
        return symbols["y"], symbols["z"], self.scale_twin(symbols["z"])
