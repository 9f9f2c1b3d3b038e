"""The integer scale decoder as an ONNX graph of integer operators (ConvInteger, int64 math).

torch has no integer convolution to export, and ONNX Runtime has no float64 Conv kernel, so the
graph is written directly: per layer ConvInteger (int32 accumulation) -> Cast int64 -> Add bias
-> Mul multiplier -> Add half -> Max 0 -> Div 2**shift -> Min out_max, then Cast uint8 and
DepthToSpace (CRD, torch's pixel_shuffle order) between layers. Input "z_hat" (float32,
integer-valued), output "scale_indexes" (int64).

Both ConvInteger operands are uint8 with zero points (z_hat + 128 and weights + 128, zero point
128): the uint8 x int8 kernels of some x86 CPUs (AVX2 without VNNI) multiply-add pairs into
saturating int16 (vpmaddubsw), which ONNX Runtime's quantization guide warns about; uint8 x
uint8 takes a widening path and is exact on every CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from codec.entropy.integer_scales import INT32_MAX, IntegerLayer, IntegerScaleDecoder

INPUT_NAME = "z_hat"
OUTPUT_NAME = "scale_indexes"
OPSET = 17
IR_VERSION = 9  # what ONNX Runtime 1.2x reads; newer onnx packages default higher
ZERO_POINT = 128  # int8 values v travel as uint8 v + 128


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attributes))
        return out


def _layer(g: _Graph, x: str, layer: IntegerLayer) -> str:
    """One ConvInteger layer with its requantisation; returns the int64 output's name."""
    weight = (layer.weight.numpy().astype(np.int16) + ZERO_POINT).astype(np.uint8)
    x_zero_point = ZERO_POINT if layer.signed_input else 0
    conv = g.op(
        "ConvInteger",
        [
            x,
            g.const("weight", weight),
            g.const("x_zero_point", np.array(x_zero_point, np.uint8)),
            g.const("w_zero_point", np.array(ZERO_POINT, np.uint8)),
        ],
        pads=[1, 1, 1, 1],
    )
    acc = g.op("Cast", [conv], to=TensorProto.INT64)
    bias = layer.bias.clamp(-INT32_MAX, INT32_MAX).numpy().astype(np.int64)
    multiplier = layer.multiplier.numpy().astype(np.int64)
    biased = g.op("Add", [acc, g.const("bias", bias.reshape(1, -1, 1, 1))])
    scaled = g.op("Mul", [biased, g.const("multiplier", multiplier.reshape(1, -1, 1, 1))])
    rounded = g.op("Add", [scaled, g.const("half", np.array(1 << (layer.shift - 1), np.int64))])
    # Clamping at 0 before dividing makes ONNX's truncating integer Div a floor.
    positive = g.op("Max", [rounded, g.const("zero", np.array(0, np.int64))])
    divided = g.op("Div", [positive, g.const("unit", np.array(1 << layer.shift, np.int64))])
    return g.op("Min", [divided, g.const("out_max", np.array(layer.out_max, np.int64))])


def integer_scales_onnx(decoder: IntegerScaleDecoder, z_shape: tuple[int, int, int, int]) -> bytes:
    """The checked ONNX model for z_hat of shape `z_shape` (fixed, as every inference tile)."""
    batch, channels, height, width = z_shape
    in_channels = decoder.layers[0].weight.shape[1]
    if channels != in_channels:
        raise ValueError(
            f"z_shape {z_shape} has {channels} channels, the scale decoder takes {in_channels}"
        )
    g = _Graph()
    z_min = g.const("z_min", np.array(decoder.z_min, np.float32))
    z_max = g.const("z_max", np.array(decoder.z_max, np.float32))
    clipped = g.op("Clip", [g.op("Round", [INPUT_NAME]), z_min, z_max])
    shifted = g.op("Add", [clipped, g.const("offset", np.array(ZERO_POINT, np.float32))])
    x = g.op("Cast", [shifted], to=TensorProto.UINT8)
    for layer in decoder.layers:
        out = _layer(g, x, layer)
        if layer.upsample:
            as_uint8 = g.op("Cast", [out], to=TensorProto.UINT8)
            x = g.op("DepthToSpace", [as_uint8], blocksize=2, mode="CRD")
        else:
            x = out
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME]))
    factor = 2 ** sum(layer.upsample for layer in decoder.layers)
    out_shape = [batch, decoder.layers[-1].weight.shape[0], height * factor, width * factor]
    graph = helper.make_graph(
        g.nodes,
        "integer_scale_decoder",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(z_shape))],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.INT64, out_shape)],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
