"""The two parts of a codec that run on the device, as stand-alone graphs with fixed tile shapes.

Both come from the codec itself (`encoder_graph()` / `decoder_graph()`, with layers folded for
inference, and their `*_example_inputs(h, w)`), so every exporter (ONNX, torch.export, Core ML)
and the latency features see one and the same graph. Rounding is part of the encoder graph, as on
the device: what leaves it is what the entropy coder codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import torch
from torch import nn

Part = Literal["encoder", "decoder"]
PARTS: tuple[str, ...] = get_args(Part)

# Tensor names in every exported graph (ONNX, torch.export, Core ML), in interface order.
ENCODER_INPUT_NAMES = ("x",)
ENCODER_OUTPUT_NAMES = ("y_hat", "z_hat", "scales")
DECODER_INPUT_NAMES = ("y_hat", "z_hat")
DECODER_OUTPUT_NAMES = ("x_hat", "scales")


class ExportableCodec(Protocol):
    """What export needs from a codec (codec.model.LearnedCodec provides it)."""

    def encoder_graph(self) -> nn.Module: ...

    def decoder_graph(self) -> nn.Module: ...

    def encoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]: ...

    def decoder_example_inputs(self, height: int, width: int) -> tuple[torch.Tensor, ...]: ...


@dataclass(frozen=True)
class PartGraph:
    """A module with example inputs of one tile and the names of its tensors."""

    part: str
    module: nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]


def check_part(part: str) -> Part:
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got part={part!r}")
    return part  # type: ignore[return-value]


def part_graph(model: ExportableCodec, part: str, tile: int) -> PartGraph:
    """The graph of `part` for square tiles of `tile` pixels (exporters switch it to eval mode)."""
    check_part(part)
    if tile <= 0:
        raise ValueError(f"tile must be a positive number of pixels, got {tile}")
    # A hyperprior decoder takes z_hat too; then both parts also give the scales.
    decoder_inputs = model.decoder_example_inputs(tile, tile)
    hyperprior = len(decoder_inputs) > 1
    names: tuple[str, ...]
    outputs: tuple[str, ...]
    if part == "encoder":
        module = model.encoder_graph()
        inputs = model.encoder_example_inputs(tile, tile)
        names = ENCODER_INPUT_NAMES
        outputs = ENCODER_OUTPUT_NAMES if hyperprior else ENCODER_OUTPUT_NAMES[:1]
    else:
        module = model.decoder_graph()
        inputs = decoder_inputs
        names = DECODER_INPUT_NAMES[: len(inputs)]
        outputs = DECODER_OUTPUT_NAMES if hyperprior else DECODER_OUTPUT_NAMES[:1]
    return PartGraph(part, module, inputs, names, outputs)
