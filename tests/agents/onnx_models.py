"""Small ONNX graphs made with onnx.helper: distinct bytes per seed, cost set by their size."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_stack(seed: int, *, layers: int, channels: int, tile: int = 64) -> bytes:
    """A decoder-shaped chain of 3x3 convolutions with ReLU on one `tile` x `tile` input `x`;
    its cost grows with layers x channels^2, and the seed makes its weights (and hash) unique."""
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    previous, width = "x", 3
    for index in range(layers):
        weight = numpy_helper.from_array(
            (rng.standard_normal((channels, width, 3, 3)) * 0.1).astype(np.float32), f"w{index}"
        )
        weights.append(weight)
        conv_out = f"c{index}"
        nodes.append(helper.make_node("Conv", [previous, weight.name], [conv_out], pads=[1] * 4))
        previous = f"r{index}" if index < layers - 1 else "y"
        nodes.append(helper.make_node("Relu", [conv_out], [previous]))
        width = channels
    graph = helper.make_graph(
        nodes,
        f"conv_stack_{seed}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, tile, tile])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, tile, tile])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
