"""LearnedCodec: analysis transform + latent codec + synthesis transform (CompressAI-style)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codec.architecture import CodecArchitecture
from codec.bitstream import MODEL_ID_BYTES, BitstreamHeader, pack_bitstream, unpack_bitstream
from codec.entropy import LatentDecoder, LatentEncoder
from codec.entropy.coder import MAX_ABS_SYMBOL
from codec.entropy.integer_scales import IntegerScaleDecoder
from codec.entropy.integer_scales_onnx import integer_scales_onnx
from codec.entropy.scale_decoder import ScaleDecoder
from codec.folding import fold_for_inference
from codec.graphs import (
    FactorizedDecoderGraph,
    FactorizedEncoderGraph,
    HyperpriorDecoderGraph,
    HyperpriorEncoderGraph,
)
from codec.latent_codecs import HyperLatentCodec, Latents, build_latent_codec
from codec.prepared import PreparedCodec, prepare, require_fresh
from codec.transforms import HYPER_STAGES, analysis_transform, synthesis_transform
from codec.variable_rate import (
    Gains,
    RateGains,
    check_rate_code,
    code_of_position,
    coded_position,
    gains_for,
    position_of_code,
)

ScaleRunner = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class CodecForward:
    x_hat: torch.Tensor  # (B,3,H,W), not clamped
    likelihoods: dict[str, torch.Tensor]  # "y" and, with hyperprior, "z"


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
        self.latent_codec = build_latent_codec(architecture)
        points = architecture.rate_points
        self.rate_gains = RateGains(architecture.latent_channels, points) if points > 1 else None
        self._prepared: PreparedCodec | None = None
        # z_hat -> int64 table indexes; None: the built-in torch integer path. Another backend
        # (e.g. ONNX Runtime running scale_decoder_onnx()) plugs in here.
        self.scale_runner: ScaleRunner | None = None

    # ---- parts, by their usual names --------------------------------------------------------

    @property
    def hyper(self) -> HyperLatentCodec | None:
        codec = self.latent_codec
        return codec if isinstance(codec, HyperLatentCodec) else None

    @property
    def h_a(self) -> nn.Sequential | None:
        return None if self.hyper is None else self.hyper.h_a

    @property
    def h_s(self) -> ScaleDecoder | None:
        """The scale decoder (quantization-aware; z_hat -> table index per element of y)."""
        return None if self.hyper is None else self.hyper.h_s

    @property
    def size_multiple(self) -> int:
        extra = HYPER_STAGES if self.hyper is not None else 0
        return 2 ** (self.architecture.stages + extra)

    # ---- training path -------------------------------------------------------------------

    def forward(self, x: torch.Tensor, rate: torch.Tensor | float | None = None) -> CodecForward:
        """Training/eval pass. `rate`: variable-rate position(s), one or one per image (B,);
        None means the highest rate point. A fixed-rate model takes None or 0."""
        self._check_image(x, need_multiple=True)
        gain, inverse_gain = gains_for(self.rate_gains, rate, x.shape[0])
        # Under mixed precision only the transforms run in bfloat16: rounding and likelihoods
        # need float32 (bfloat16 steps are 1/8 at 16, as coarse as the quantizer itself).
        y = self.g_a(x).float()
        with torch.autocast(x.device.type, enabled=False):
            y_hat, likelihoods = self.latent_codec(y if gain is None else y * gain)
            if inverse_gain is not None:
                y_hat = y_hat * inverse_gain
        return CodecForward(self.g_s(y_hat).float(), likelihoods)

    def rate_bits(self, out: CodecForward) -> torch.Tensor:
        """-sum(log2 likelihoods) over all latents and the batch; differentiable."""
        return self.rate_bits_per_image(out).sum()

    def rate_bits_per_image(self, out: CodecForward) -> torch.Tensor:
        """(B,) bits of each image, for losses that weigh images differently (variable rate)."""
        return torch.stack(
            [-torch.log2(lik).flatten(1).sum(dim=1) for lik in out.likelihoods.values()]
        ).sum(dim=0)

    # ---- coding --------------------------------------------------------------------------

    def prepare_for_coding(self) -> None:
        """Freeze the current parameters for coding: integer tables, the integer scale
        decoder, folded transforms (all deterministic functions of the parameters)."""
        self._prepared = prepare(self, self.g_a, self.g_s, self.hyper)

    @torch.no_grad()
    def encode_latents(self, x: torch.Tensor, rate: float | None = None) -> Latents:
        """The symbols compress() codes for an image (1,3,H,W) of any size."""
        return self._symbols(self._require_prepared(), x, coded_position(self.rate_gains, rate))

    @torch.no_grad()
    def compress(self, x: torch.Tensor, rate: float | None = None) -> bytes:
        """x: (1,3,H,W) in [0,1], any H, W >= 1 -> complete bitstream. `rate`: see forward."""
        prepared = self._require_prepared()
        position = coded_position(self.rate_gains, rate)
        symbols = self._symbols(prepared, x, position)
        encoder = LatentEncoder()
        self.latent_codec.encode(symbols, encoder, self._scale_runner(prepared))
        code = code_of_position(self.rate_gains, position)
        header = BitstreamHeader(self.model_id, height=x.shape[2], width=x.shape[3], rate=code)
        return pack_bitstream(header, encoder.finish())

    @torch.no_grad()
    def decode_latents(self, data: bytes) -> tuple[BitstreamHeader, Latents]:
        """Header and the symbols of a bitstream; raises BitstreamError on any defect."""
        return self._decode(self._require_prepared(), data)

    @torch.no_grad()
    def decompress(self, data: bytes) -> torch.Tensor:
        """Bitstream -> (1,3,H,W) in [0,1] at the original size."""
        prepared = self._require_prepared()
        header, symbols = self._decode(prepared, data)
        y_hat = self.latent_codec.dequantize(symbols)
        _, inverse_gain = gains_for(self.rate_gains, position_of_code(header.rate), 1)
        x_hat = prepared.synthesis(y_hat if inverse_gain is None else y_hat * inverse_gain)
        return x_hat[:, :, : header.height, : header.width].clamp(0.0, 1.0)

    def _symbols(self, prepared: PreparedCodec, x: torch.Tensor, position: float) -> Latents:
        self._check_image(x, need_multiple=False)
        gain, _ = gains_for(self.rate_gains, position, 1)
        y = prepared.analysis(self._pad(x))
        symbols = self.latent_codec.symbols(y if gain is None else y * gain)
        for name, latent in symbols.items():
            _check_codable(name, latent)
        return symbols

    def _decode(self, prepared: PreparedCodec, data: bytes) -> tuple[BitstreamHeader, Latents]:
        header, (ans_stream, escape_stream) = unpack_bitstream(data, self.model_id)
        check_rate_code(self.rate_gains, header.rate)
        decoder = LatentDecoder(ans_stream, escape_stream)
        m, stages = self.architecture.latent_channels, self.architecture.stages
        y_shape = (1, m, *self._latent_size(header.height, header.width, stages))
        z_channels = self.architecture.effective_hyper_channels
        z_size = self._latent_size(header.height, header.width, stages + HYPER_STAGES)
        symbols = self.latent_codec.decode(
            decoder, y_shape, (1, z_channels, *z_size), self._scale_runner(prepared)
        )
        decoder.finish()
        return header, symbols

    # ---- export --------------------------------------------------------------------------

    def scale_decoder(self) -> IntegerScaleDecoder:
        """The integer scale decoder built by prepare_for_coding() (hyperprior models)."""
        decoder = self._require_prepared().scale_decoder
        if decoder is None:
            raise ValueError("a factorized-prior model has no scale decoder")
        return decoder

    def scale_decoder_onnx(self, height: int, width: int) -> bytes:
        """ONNX graph z_hat -> scale_indexes (integer ops only) for tiles of height x width."""
        z_size = self._latent_size(height, width, self.architecture.stages + HYPER_STAGES)
        z_shape = (1, self.architecture.effective_hyper_channels, *z_size)
        return integer_scales_onnx(self.scale_decoder(), z_shape)

    def decoder_graph(self, rate: float | None = None) -> nn.Module:
        """(y_hat[, z_hat]) -> (x_hat[, scales]) with folded layers, for export (see graphs)."""
        _, inverse_gain = self._export_gains(rate)
        synthesis = fold_for_inference(self.g_s)
        hyper = self.hyper
        if hyper is None:
            return FactorizedDecoderGraph(synthesis, inverse_gain)
        return HyperpriorDecoderGraph(
            synthesis, hyper, hyper.h_s.freeze().float_twin(), inverse_gain
        )

    def encoder_graph(self, rate: float | None = None) -> nn.Module:
        """x -> (y_hat[, z_hat, scales]) with folded layers, for export (see graphs)."""
        gain, _ = self._export_gains(rate)
        analysis = fold_for_inference(self.g_a)
        hyper = self.hyper
        if hyper is None:
            return FactorizedEncoderGraph(analysis, gain)
        return HyperpriorEncoderGraph(analysis, hyper, hyper.h_s.freeze().float_twin(), gain)

    def decoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]:
        """Integer symbols for a tile of height x width (padded up to size_multiple)."""
        if height < 1 or width < 1:
            raise ValueError(f"tile size must be positive, got {height}x{width}")
        generator = torch.Generator().manual_seed(0)
        h, w = self._latent_size(height, width, self.architecture.stages)
        y_hat = torch.round(
            2.0 * torch.randn(1, self.architecture.latent_channels, h, w, generator=generator)
        )
        if self.hyper is None:
            return (y_hat,)
        zh, zw = self._latent_size(height, width, self.architecture.stages + HYPER_STAGES)
        z_channels = self.architecture.effective_hyper_channels
        z_hat = torch.round(torch.randn(1, z_channels, zh, zw, generator=generator))
        return y_hat, z_hat

    def encoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]:
        """One image tile in [0, 1], padded up to size_multiple as compress() pads."""
        h, w = self._latent_size(height, width, 0)
        return (torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(height)),)

    # ---- helpers -------------------------------------------------------------------------

    def _export_gains(self, rate: float | None) -> Gains:
        with torch.no_grad():
            gain, inverse_gain = gains_for(self.rate_gains, rate, 1)
        return (
            None if gain is None else gain.detach().clone(),
            None if inverse_gain is None else inverse_gain.detach().clone(),
        )

    def _scale_runner(self, prepared: PreparedCodec) -> ScaleRunner:
        if self.scale_runner is not None:
            return self.scale_runner
        if prepared.scale_decoder is None:
            return _no_scales
        return prepared.scale_decoder

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

    def _require_prepared(self) -> PreparedCodec:
        return require_fresh(self._prepared, self)


def _no_scales(z_hat: torch.Tensor) -> torch.Tensor:
    raise AssertionError("a factorized-prior model never asks for scales")


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
