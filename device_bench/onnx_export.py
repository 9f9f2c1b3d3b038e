"""Export a codec's encoder and decoder to ONNX, the format every benchmark backend starts from.

We use torch's torch.export-based ("dynamo") exporter, the default since torch 2.9:
- the TorchScript exporter is deprecated in torch 2.13 and warns that it will be removed;
- both give the same outputs on conv / transposed-conv / pixel-shuffle / GELU decoders (checked
  against ONNX Runtime to ~1e-7 here), so the maintained path wins;
- the Core ML conversion also goes through torch.export (see DESIGN.md), so a model that exports
  here captures the same graph there.
Shapes are fixed: inference always runs on fixed-size tiles, and a static graph lets the runtime
plan memory and fuse ops for exactly that tile.
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np
import onnx
import torch

from device_bench.parts import (
    DECODER_INPUT_NAMES,
    DECODER_OUTPUT_NAMES,
    ExportableCodec,
    part_graph,
)

# The exporter colours its messages for terminals; stored errors should be plain text.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class ExportError(RuntimeError):
    """A module could not be exported to a valid ONNX graph."""


class ExportableDecoder(Protocol):
    """What export needs from a codec model (codec.model's models provide it)."""

    def decoder_graph(self) -> torch.nn.Module: ...

    def decoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]: ...


def export_onnx(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    input_names: list[str],
    output_names: list[str],
) -> bytes:
    """Export `module` traced on `example_inputs` (fixed shapes) and return the checked ONNX bytes.

    The module is exported in eval mode and its previous mode is restored afterwards.
    """
    if len(input_names) != len(example_inputs):
        raise ValueError(
            f"input_names {input_names} has {len(input_names)} names "
            f"for {len(example_inputs)} example inputs"
        )
    was_training = module.training
    module.eval()
    try:
        program = torch.onnx.export(
            module,
            example_inputs,
            input_names=input_names,
            output_names=output_names,
            dynamo=True,
            # Weights inside the proto: decoders are far below protobuf's 2 GB limit, and one
            # self-contained blob is what the agents ship around.
            external_data=False,
            verbose=False,
        )
    except Exception as error:  # the exporter raises many types; all mean "could not export"
        message = _ANSI_ESCAPE.sub("", str(error))
        raise ExportError(
            f"could not export {type(module).__name__} to ONNX: {type(error).__name__}: {message}"
        ) from error
    finally:
        module.train(was_training)
    if program is None:  # only the TorchScript path returns None; guard the type for mypy
        raise ExportError(f"torch.onnx.export returned no program for {type(module).__name__}")
    proto = program.model_proto
    _check_graph(proto, type(module).__name__, input_names, output_names)
    return proto.SerializeToString()


def _check_graph(
    proto: onnx.ModelProto, module_name: str, input_names: list[str], output_names: list[str]
) -> None:
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise ExportError(f"ONNX graph of {module_name} fails onnx.checker: {error}") from error
    graph_inputs = [value.name for value in proto.graph.input]
    graph_outputs = [value.name for value in proto.graph.output]
    # A count mismatch leaves exporter-chosen names behind, and callers feed tensors by name.
    if graph_inputs != list(input_names) or graph_outputs != list(output_names):
        raise ExportError(
            f"ONNX graph of {module_name} has inputs {graph_inputs} and outputs {graph_outputs}, "
            f"expected inputs {input_names} and outputs {output_names}"
        )


def decoder_input_names(count: int) -> list[str]:
    """ONNX input names for a decoder graph taking `count` latent tensors."""
    if not 1 <= count <= len(DECODER_INPUT_NAMES):
        raise ValueError(
            f"a decoder graph takes 1 to {len(DECODER_INPUT_NAMES)} latent tensors "
            f"{DECODER_INPUT_NAMES}, got {count}"
        )
    return list(DECODER_INPUT_NAMES[:count])


def decoder_output_names(input_count: int) -> list[str]:
    """ONNX output names: x_hat, plus scales when the model has a hyperprior (z_hat input)."""
    return list(DECODER_OUTPUT_NAMES[: len(decoder_input_names(input_count))])


def export_decoder(model: ExportableDecoder, tile: int = 512) -> bytes:
    """Export the model's decoder graph for square tiles of `tile` pixels."""
    if tile <= 0:
        raise ValueError(f"tile must be a positive number of pixels, got {tile}")
    example_inputs = model.decoder_example_inputs(tile, tile)
    return export_onnx(
        model.decoder_graph(),
        example_inputs,
        decoder_input_names(len(example_inputs)),
        decoder_output_names(len(example_inputs)),
    )


def decoder_feeds(model: ExportableDecoder, tile: int = 512) -> dict[str, np.ndarray]:
    """Named numpy inputs for a decoder exported by export_decoder with the same tile size."""
    example_inputs = model.decoder_example_inputs(tile, tile)
    names = decoder_input_names(len(example_inputs))
    return {
        name: tensor.detach().cpu().numpy()
        for name, tensor in zip(names, example_inputs, strict=False)
    }


def export_part(model: ExportableCodec, part: str, tile: int = 512) -> bytes:
    """Export the model's `part` ("encoder" or "decoder") for square tiles of `tile` pixels."""
    graph = part_graph(model, part, tile)
    return export_onnx(
        graph.module, graph.example_inputs, list(graph.input_names), list(graph.output_names)
    )


def part_feeds(model: ExportableCodec, part: str, tile: int = 512) -> dict[str, np.ndarray]:
    """Named numpy inputs for a graph exported by export_part with the same part and tile."""
    graph = part_graph(model, part, tile)
    return {
        name: tensor.detach().cpu().numpy()
        for name, tensor in zip(graph.input_names, graph.example_inputs, strict=True)
    }
