"""Stand-ins for device_bench tests: a codec with codec.model's decoder interface, and an ONNX
model built without torch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from device_bench.coreml_export import CoreMLExport, export_coreml
from device_bench.onnx_export import export_part
from device_bench.parts import ExportableCodec


class StandInDecoderGraph(torch.nn.Module):
    """Synthesis (y_hat -> x_hat) and hyper-decoder (z_hat -> scales), built from the op kinds
    a real decoder uses: transposed conv, conv, pixel shuffle, GELU, exp."""

    def __init__(self, latent_channels: int = 16, hyper_channels: int = 8) -> None:
        super().__init__()
        self.synthesis = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(latent_channels, 24, 5, stride=2, padding=2, output_padding=1),
            torch.nn.GELU(),
            torch.nn.ConvTranspose2d(24, 24, 5, stride=2, padding=2, output_padding=1),
            torch.nn.GELU(),
            torch.nn.Conv2d(24, 3 * 4, 3, padding=1),
            torch.nn.PixelShuffle(2),
        )
        self.hyper_decoder = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(hyper_channels, 16, 5, stride=2, padding=2, output_padding=1),
            torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(16, latent_channels, 5, stride=2, padding=2, output_padding=1),
        )

    def forward(
        self, y_hat: torch.Tensor, z_hat: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.synthesis(y_hat), torch.exp(self.hyper_decoder(z_hat))


class StandInCodec:
    """Latents at 1/8 (y) and 1/32 (z) of the tile, as in a scale-hyperprior codec."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.graph = StandInDecoderGraph()

    def decoder_graph(self) -> torch.nn.Module:
        return self.graph

    def decoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]:
        generator = torch.Generator().manual_seed(height * 10_000 + width)
        y_hat = torch.randn(1, 16, height // 8, width // 8, generator=generator).round()
        z_hat = torch.randn(1, 8, height // 32, width // 32, generator=generator).round()
        return y_hat, z_hat


@pytest.fixture(scope="session")
def standin_codec() -> StandInCodec:
    torch.set_num_threads(1)
    return StandInCodec()


TINY_CONFIG = {
    "channels": 16,
    "stages": 2,
    "block": "residual",
    "activation": "gelu",
    "latent_channels": 32,
    "hyperprior": True,
}


@pytest.fixture(scope="session")
def tiny_codec() -> ExportableCodec:
    """A small real codec of the basic space (scale hyperprior), for export and benchmarks."""
    from search_spaces import get_space

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model: ExportableCodec = get_space("basic").build(TINY_CONFIG).eval()
    return model


COREML_TILE = 64
EXPORT_TILE = 64


@pytest.fixture(scope="session")
def tiny_onnx_parts(tiny_codec: ExportableCodec) -> dict[str, bytes]:
    """The tiny codec's encoder and decoder as ONNX at EXPORT_TILE, exported once per session."""
    return {part: export_part(tiny_codec, part, EXPORT_TILE) for part in ("encoder", "decoder")}


@pytest.fixture(scope="session")
def coreml_exports(
    tiny_codec: ExportableCodec, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, CoreMLExport]:
    """The tiny codec's Core ML packages, converted once per session: "{part}-{variant}"."""
    out = tmp_path_factory.mktemp("coreml")
    exports = {}
    for part, variant in (("decoder", "fp16"), ("decoder", "int8"), ("encoder", "fp16")):
        exports[f"{part}-{variant}"] = export_coreml(
            tiny_codec, part, out, tile=COREML_TILE, variant=variant
        )
    return exports


@pytest.fixture(scope="session")
def tiny_onnx_model() -> bytes:
    """y = relu(x @ w + 1): a real ONNX graph built by hand, so backend tests need no exporter."""
    weight = helper.make_tensor(
        "w", TensorProto.FLOAT, [4, 3], np.arange(12, dtype=np.float32).tolist()
    )
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "one"], ["xw1"]),
            helper.make_node("Relu", ["xw1"], ["y"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        initializer=[weight, one],
    )
    # onnx 1.23's helper writes IR version 14 by default, newer than ONNX Runtime 1.31 reads (13).
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.checker.check_model(model)
    return model.SerializeToString()
