"""LearnedCodec: analysis transform + latent codec + synthesis transform (CompressAI-style)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codec.architecture import CodecArchitecture
from codec.bitstream import MODEL_ID_BYTES, BitstreamHeader, pack_bitstream, unpack_bitstream
from codec.entropy import FactorizedDensity, GaussianConditional, LatentDecoder, LatentEncoder
from codec.entropy.coder import MAX_ABS_SYMBOL
from codec.errors import CodingNotPreparedError
from codec.transforms import (
    HYPER_STAGES,
    analysis_transform,
    hyper_analysis_transform,
    hyper_synthesis_transform,
    synthesis_transform,
)


@dataclass
class CodecForward:
    x_hat: torch.Tensor  # (B,3,H,W), not clamped
    likelihoods: dict[str, torch.Tensor]  # "y" and, with hyperprior, "z"


def _quantize(latent: torch.Tensor, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
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


class FactorizedDecoderGraph(nn.Module):
    """y_hat -> x_hat (unclamped, padded size)."""

    def __init__(self, synthesis: nn.Module) -> None:
        super().__init__()
        self.synthesis = synthesis

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        return self.synthesis(y_hat)


class HyperpriorDecoderGraph(nn.Module):
    """(y_hat, z_hat) -> (x_hat, scales): synthesis plus hyper-decoder with bounded scales."""

    def __init__(self, synthesis: nn.Module, hyper_synthesis: nn.Module) -> None:
        super().__init__()
        self.synthesis = synthesis
        self.hyper_synthesis = hyper_synthesis

    def scales(self, z_hat: torch.Tensor) -> torch.Tensor:
        return GaussianConditional.bound_scales(self.hyper_synthesis(z_hat))

    def forward(
        self, y_hat: torch.Tensor, z_hat: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.synthesis(y_hat), self.scales(z_hat)


class LearnedCodec(nn.Module):
    def __init__(self, architecture: CodecArchitecture, model_id: bytes = b"\0" * 16) -> None:
        super().__init__()
        architecture.validate()
        if len(model_id) != MODEL_ID_BYTES:
            raise ValueError(f"model_id must be {MODEL_ID_BYTES} bytes, got {model_id!r}")
        self.architecture = architecture
        self.model_id = bytes(model_id)
        self.g_a = analysis_transform(architecture)
        self.g_s = synthesis_transform(architecture)
        self.h_a: nn.Sequential | None = None
        self.h_s: nn.Sequential | None = None
        self.z_density: FactorizedDensity | None = None
        self.y_gaussian: GaussianConditional | None = None
        self.y_density: FactorizedDensity | None = None
        if architecture.hyperprior:
            self.h_a = hyper_analysis_transform(architecture)
            self.h_s = hyper_synthesis_transform(architecture)
            self.z_density = FactorizedDensity(architecture.effective_hyper_channels)
            self.y_gaussian = GaussianConditional()
        else:
            self.y_density = FactorizedDensity(architecture.latent_channels)
        # Parameters of the learned densities when the tables were built; None: never built.
        self._tables_built_for: torch.Tensor | None = None

    @property
    def size_multiple(self) -> int:
        extra = HYPER_STAGES if self.architecture.hyperprior else 0
        return 2 ** (self.architecture.stages + extra)

    # ---- training path -------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> CodecForward:
        self._check_image(x, need_multiple=True)
        y = self.g_a(x)
        y_for_rate, y_hat = _quantize(y, self.training)
        if self.y_density is not None:
            return CodecForward(self.g_s(y_hat), {"y": self.y_density.likelihood(y_for_rate)})
        assert self.h_a is not None and self.z_density is not None and self.y_gaussian is not None
        z = self.h_a(torch.abs(y))
        z_for_rate, z_hat = _quantize(z, self.training)
        scales = self._scales(z_hat)
        return CodecForward(
            self.g_s(y_hat),
            {
                "y": self.y_gaussian.likelihood(y_for_rate, scales),
                "z": self.z_density.likelihood(z_for_rate),
            },
        )

    def rate_bits(self, out: CodecForward) -> torch.Tensor:
        """-sum(log2 likelihoods) over all latents and the batch; differentiable."""
        return torch.stack([-torch.log2(lik).sum() for lik in out.likelihoods.values()]).sum()

    # ---- coding --------------------------------------------------------------------------

    def prepare_for_coding(self) -> None:
        """Build the integer tables from the current parameters (deterministic)."""
        for density in (self.y_density, self.z_density, self.y_gaussian):
            if density is not None:
                density.prepare_for_coding()
        self._tables_built_for = self._density_parameters()

    def _density_parameters(self) -> torch.Tensor:
        # The factorized tables depend on these few hundred numbers only (the Gaussian tables
        # are fixed), so comparing them is a cheap, exact staleness check.
        densities = [d for d in (self.y_density, self.z_density) if d is not None]
        return torch.cat([p.detach().flatten() for d in densities for p in d.parameters()]).clone()

    @torch.no_grad()
    def encode_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Rounded latents of an image (1,3,H,W) of any size: the symbols compress() codes."""
        self._check_image(x, need_multiple=False)
        y = self.g_a(self._pad(x))
        latents = {"y": torch.round(y)}
        if self.h_a is not None:
            latents["z"] = torch.round(self.h_a(torch.abs(y)))
        for name, latent in latents.items():
            _check_codable(name, latent)
        return latents

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> bytes:
        """x: (1,3,H,W) in [0,1], any H, W >= 1 -> complete bitstream."""
        self._require_prepared()
        latents = self.encode_latents(x)
        encoder = LatentEncoder()
        if self.y_density is not None:
            self.y_density.encode(latents["y"], encoder)
        else:
            assert self.z_density is not None and self.y_gaussian is not None
            self.z_density.encode(latents["z"], encoder)  # z first: the decoder needs it first
            self.y_gaussian.encode(latents["y"], self._scales(latents["z"]), encoder)
        header = BitstreamHeader(self.model_id, height=x.shape[2], width=x.shape[3])
        return pack_bitstream(header, encoder.finish())

    @torch.no_grad()
    def decode_latents(self, data: bytes) -> tuple[BitstreamHeader, dict[str, torch.Tensor]]:
        """Header and the latents of a bitstream; raises BitstreamError on any defect."""
        self._require_prepared()
        header, (ans_stream, escape_stream) = unpack_bitstream(data, self.model_id)
        decoder = LatentDecoder(ans_stream, escape_stream)
        h, w = self._latent_size(header.height, header.width, self.architecture.stages)
        m = self.architecture.latent_channels
        if self.y_density is not None:
            latents = {"y": self.y_density.decode((1, m, h, w), decoder)}
        else:
            assert self.z_density is not None and self.y_gaussian is not None
            zh, zw = self._latent_size(
                header.height, header.width, self.architecture.stages + HYPER_STAGES
            )
            z_hat = self.z_density.decode((1, self.z_density.channels, zh, zw), decoder)
            latents = {"z": z_hat, "y": self.y_gaussian.decode(self._scales(z_hat), decoder)}
        decoder.finish()
        return header, latents

    @torch.no_grad()
    def decompress(self, data: bytes) -> torch.Tensor:
        """Bitstream -> (1,3,H,W) in [0,1] at the original size."""
        header, latents = self.decode_latents(data)
        x_hat = self.g_s(latents["y"])
        return x_hat[:, :, : header.height, : header.width].clamp(0.0, 1.0)

    # ---- export --------------------------------------------------------------------------

    def decoder_graph(self) -> nn.Module:
        """Synthesis (+ hyper-decoder) sharing this model's weights, for ONNX export."""
        if self.h_s is None:
            return FactorizedDecoderGraph(self.g_s)
        return HyperpriorDecoderGraph(self.g_s, self.h_s)

    def decoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]:
        """Integer latents for a tile of height x width (padded up to size_multiple)."""
        if height < 1 or width < 1:
            raise ValueError(f"tile size must be positive, got {height}x{width}")
        generator = torch.Generator().manual_seed(0)
        h, w = self._latent_size(height, width, self.architecture.stages)
        y_hat = torch.round(
            2.0 * torch.randn(1, self.architecture.latent_channels, h, w, generator=generator)
        )
        if self.z_density is None:
            return (y_hat,)
        zh, zw = self._latent_size(height, width, self.architecture.stages + HYPER_STAGES)
        z_hat = torch.round(torch.randn(1, self.z_density.channels, zh, zw, generator=generator))
        return y_hat, z_hat

    # ---- helpers -------------------------------------------------------------------------

    def _scales(self, z_hat: torch.Tensor) -> torch.Tensor:
        # The same code path as HyperpriorDecoderGraph.scales, so export and decode agree.
        assert self.h_s is not None
        return GaussianConditional.bound_scales(self.h_s(z_hat))

    def _latent_size(self, height: int, width: int, downsamplings: int) -> tuple[int, int]:
        m = self.size_multiple
        padded_h, padded_w = -(-height // m) * m, -(-width // m) * m
        return padded_h >> downsamplings, padded_w >> downsamplings

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        m = self.size_multiple
        pad_h, pad_w = -x.shape[2] % m, -x.shape[3] % m
        if pad_h == 0 and pad_w == 0:
            return x
        return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")

    def _check_image(self, x: torch.Tensor, need_multiple: bool) -> None:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected an image batch (B,3,H,W), got shape {tuple(x.shape)}")
        if not need_multiple and x.shape[0] != 1:
            raise ValueError(f"compress codes one image (1,3,H,W), got shape {tuple(x.shape)}")
        if need_multiple and (x.shape[2] % self.size_multiple or x.shape[3] % self.size_multiple):
            raise ValueError(
                f"forward needs H and W multiples of {self.size_multiple}, got shape "
                f"{tuple(x.shape)}; compress() pads any size"
            )

    def _require_prepared(self) -> None:
        # Stale tables would still round-trip inside this process, but another process that
        # loads the same weights builds other tables and could not decode: refuse instead.
        built_for = self._tables_built_for
        if built_for is None:
            raise CodingNotPreparedError(
                "no coding tables: call prepare_for_coding() after training or load_state_dict()"
            )
        if not torch.equal(built_for, self._density_parameters()):
            raise CodingNotPreparedError(
                "the entropy model's parameters changed since prepare_for_coding() built the "
                "tables (training or load_state_dict): call prepare_for_coding() again"
            )


def _check_codable(name: str, latent: torch.Tensor) -> None:
    # Checked on floats: casting NaN or 1e20 to int64 would give garbage, not an error.
    if not torch.isfinite(latent).all():
        raise ValueError(f"latent {name} has non-finite values: the input or the model is broken")
    worst = float(latent.abs().max()) if latent.numel() else 0.0
    if worst > MAX_ABS_SYMBOL:
        raise ValueError(
            f"latent {name} reaches {worst:g}, beyond the codable magnitude {MAX_ABS_SYMBOL}"
        )


def build_codec(arch: CodecArchitecture, model_id: bytes = b"\0" * 16) -> LearnedCodec:
    return LearnedCodec(arch, model_id)
