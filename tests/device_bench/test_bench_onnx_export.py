import numpy as np
import onnx
import pytest
import torch

from device_bench.onnx_export import (
    ExportableDecoder,
    ExportError,
    decoder_feeds,
    export_decoder,
    export_onnx,
)
from device_bench.onnxruntime_backend import OnnxRuntimeBackend

TILE = 128  # same graph as at 512, a sixteenth of the work


def assert_onnx_matches_torch(model: ExportableDecoder, onnx_model: bytes, tile: int) -> None:
    feeds = decoder_feeds(model, tile)
    onnx_outputs = OnnxRuntimeBackend(threads=1).run(onnx_model, feeds)
    with torch.no_grad():
        torch_outputs = model.decoder_graph()(*(torch.from_numpy(v) for v in feeds.values()))
    if isinstance(torch_outputs, torch.Tensor):
        torch_outputs = (torch_outputs,)
    assert len(onnx_outputs) == len(torch_outputs)
    for onnx_output, torch_output in zip(onnx_outputs, torch_outputs, strict=False):
        assert onnx_output.shape == tuple(torch_output.shape)
        np.testing.assert_allclose(onnx_output, torch_output.numpy(), rtol=1e-4, atol=1e-4)


def test_standin_decoder_exports_and_matches_torch(standin_codec: ExportableDecoder) -> None:
    onnx_model = export_decoder(standin_codec, tile=TILE)
    graph = onnx.load_from_string(onnx_model).graph
    assert [v.name for v in graph.input] == ["y_hat", "z_hat"]
    assert [v.name for v in graph.output] == ["x_hat", "scales"]
    # fixed shapes for the tile: x_hat is the tile itself
    dims = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, TILE, TILE]
    assert_onnx_matches_torch(standin_codec, onnx_model, TILE)


def test_export_restores_training_mode() -> None:
    module = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3), torch.nn.Dropout(0.5))
    module.train()
    onnx_model = export_onnx(module, (torch.randn(1, 2, 8, 8),), ["x"], ["y"])
    assert module.training
    # exported in eval mode: no Dropout left to randomise the output
    x = np.ones((1, 2, 8, 8), dtype=np.float32)
    backend = OnnxRuntimeBackend()
    np.testing.assert_array_equal(
        backend.run(onnx_model, {"x": x})[0], backend.run(onnx_model, {"x": x})[0]
    )


class Eigenvalues(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.eig(x)[0].real


def test_unexportable_module_raises_export_error_with_the_exporters_message() -> None:
    with pytest.raises(ExportError, match="Eigenvalues") as raised:
        export_onnx(Eigenvalues(), (torch.randn(1, 3, 4, 4),), ["x"], ["eigenvalues"])
    assert "linalg_eig" in str(raised.value)
    assert "\x1b[" not in str(raised.value)  # terminal colours stripped


class TwoOutputs(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * 2, x + 1


def test_too_few_output_names_is_an_export_error() -> None:
    # the exporter would name the unnamed output itself, and callers read outputs by name
    with pytest.raises(ExportError, match=r"expected inputs \['x'\] and outputs \['only'\]"):
        export_onnx(TwoOutputs(), (torch.randn(1, 1, 4, 4),), ["x"], ["only"])


def test_input_name_count_must_match_inputs() -> None:
    with pytest.raises(ValueError, match=r"\['a', 'b'\] has 2 names for 1 example inputs"):
        export_onnx(torch.nn.Identity(), (torch.randn(1, 1, 4, 4),), ["a", "b"], ["y"])


def test_tile_must_be_positive(standin_codec: ExportableDecoder) -> None:
    with pytest.raises(ValueError, match="got 0"):
        export_decoder(standin_codec, tile=0)
