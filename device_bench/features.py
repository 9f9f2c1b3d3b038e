"""Latency features of a codec part: what its program does per tile, counted op by op.

The part's graph runs once on the meta device (shapes only, no arithmetic, a few milliseconds)
under a dispatch mode that sees every ATen op, so the count covers any layer a search space uses,
functional ops included, without exporting anything. Features are grouped the way runtimes cost
them (nn-Meter's kernels): MACs per convolution kind, elements through cheap and costly element-wise
ops, data movement, op counts (per-op overhead), widths and the number of graph outputs (entropy
model passes).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from device_bench.parts import ExportableCodec, part_graph

Features = dict[str, float]

# Element-wise ops a CPU does in a cycle or two per element, and those that need a transcendental.
_CHEAP_ELEMENTWISE = {
    "clamp",
    "clamp_min",
    "maximum",
    "minimum",
    "abs",
    "round",
    "neg",
    "where",
}
_COSTLY_ELEMENTWISE = {
    "gelu", "silu", "exp", "erf", "sigmoid", "tanh", "log", "pow", "sqrt", "softplus",
}  # fmt: skip
# Activations that runtimes fuse into convolutions to different degrees: each has its own cost.
_ACTIVATIONS = {"relu", "leaky_relu"}
_ARITHMETIC = {"add", "sub", "mul", "div"}
_DATA_MOVEMENT = {"pixel_shuffle", "pixel_unshuffle", "cat", "constant_pad_nd", "pad", "clone"}
# Views cost nothing at run time and vanish in every exported graph.
_FREE = {"view", "_unsafe_view", "reshape", "permute", "expand", "t", "detach", "alias"}

_MEGA = 1e-6
NCHWC_BLOCK = 16  # floats per AVX-512 vector: ONNX Runtime's blocked layout on this CPU
LARGE_TENSOR = 1 << 19  # elements (2 MB of fp32): beyond the caches of a core


class _OpCounter(TorchDispatchMode):
    """Adds every dispatched op's cost to `features`."""

    def __init__(self) -> None:
        super().__init__()
        self.features: defaultdict[str, float] = defaultdict(float)

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__.rstrip("_")
        elements = sum(t.numel() for t in tree_leaves(out) if isinstance(t, torch.Tensor)) * _MEGA
        f = self.features
        if name == "convolution":
            _count_convolution(f, args, out)  # counts the op too
            return out
        if name in _FREE:
            return out
        if elements > LARGE_TENSOR * _MEGA:  # streams through memory
            f["large_elementwise_melems"] += elements
        if name in _ACTIVATIONS:
            f[f"{name}_melems"] += elements
        elif name in _CHEAP_ELEMENTWISE:
            f["cheap_elementwise_melems"] += elements
        elif name in _COSTLY_ELEMENTWISE:
            f["costly_elementwise_melems"] += elements
            f[f"{name}_melems"] += elements
        elif name in _ARITHMETIC:
            f["arithmetic_melems"] += elements
        elif name in _DATA_MOVEMENT:
            f["data_movement_melems"] += elements
        else:
            f["other_melems"] += elements
        f["ops"] += 1
        return out


def _count_convolution(f: defaultdict[str, float], args: tuple[Any, ...], out: Any) -> None:
    inputs, weight = args[0], args[1]
    transposed, groups = bool(args[6]), int(args[8])
    kernel_area = int(weight.shape[2]) * int(weight.shape[3])
    if transposed:  # weight (in, out/groups, kh, kw): every input element scatters to a kernel
        kind = "conv_transpose"
        macs = inputs.numel() * int(weight.shape[1]) * kernel_area
        width = int(weight.shape[1]) * groups
        # GEMM then col2im: a buffer of (out/groups * k * k) x input pixels, memory-bound.
        unfolded = macs // max(1, int(weight.shape[0]) // groups)
    else:  # weight (out, in/groups, kh, kw): every output element gathers a kernel
        kind = "depthwise" if groups > 1 else ("conv1x1" if kernel_area == 1 else "conv_kxk")
        macs = out.numel() * int(weight.shape[1]) * kernel_area
        width = int(weight.shape[0])
        # im2col then GEMM: a buffer of (in/groups * k * k) x output pixels (none for 1x1).
        unfolded = 0 if kernel_area == 1 else macs // max(1, int(weight.shape[0]) // groups)
    f[f"{kind}_mmacs"] += macs * _MEGA
    in_channels = int(inputs.shape[1])
    out_channels = int(weight.shape[1]) * groups if transposed else int(weight.shape[0])
    # ONNX Runtime runs convs with channels in multiples of its vector block (NCHWc layout,
    # direct kernels; never transposed ones); the rest go through im2col + GEMM.
    if transposed or in_channels % NCHWC_BLOCK or out_channels % NCHWC_BLOCK:
        f["plain_mmacs"] += macs * _MEGA
        f["plain_unfolded_melems"] += unfolded * _MEGA
    if kind in ("conv_kxk", "depthwise") and kernel_area in (25, 49):
        # runtimes tune 3x3 kernels best: larger ones get their own cost
        f[f"{kind}_k{int(weight.shape[2])}_mmacs"] += macs * _MEGA
    f["unfolded_melems"] += unfolded * _MEGA
    f[f"{kind}_count"] += 1
    f["macs_total_mmacs"] += macs * _MEGA
    f["conv_in_melems"] += inputs.numel() * _MEGA
    if transposed and out_channels < NCHWC_BLOCK:  # few outputs: the GEMM mostly packs input
        f["narrow_transpose_in_melems"] += inputs.numel() * _MEGA
    f["conv_out_melems"] += out.numel() * _MEGA
    if out.numel() > LARGE_TENSOR:  # streams through memory
        f["large_out_melems"] += out.numel() * _MEGA
    if out.numel() > 4 * LARGE_TENSOR:  # beyond the shared cache too
        f["huge_out_melems"] += out.numel() * _MEGA
    f["weights_k"] += weight.numel() * 1e-3
    f["max_width"] = max(f["max_width"], float(width))
    f["convs"] += 1
    f["ops"] += 1


def graph_features(module: torch.nn.Module, example_inputs: tuple[torch.Tensor, ...]) -> Features:
    """Op-level features of `module` run on inputs shaped like `example_inputs`."""
    meta_module = copy.deepcopy(module).to("meta").eval()
    meta_inputs = tuple(torch.empty_like(t, device="meta") for t in example_inputs)
    counter = _OpCounter()
    with torch.no_grad(), counter:
        outputs = meta_module(*meta_inputs)
    features = dict(counter.features)
    features["inputs"] = float(len(example_inputs))
    # One output per entropy-model pass the coder has to wait for (x_hat, scales, ...).
    features["outputs"] = float(len([t for t in tree_leaves(outputs) if torch.is_tensor(t)]))
    features["input_melems"] = sum(t.numel() for t in example_inputs) * _MEGA
    return features


def part_features(model: ExportableCodec, part: str, tile: int) -> Features:
    """Features of the model's `part` for one square tile of `tile` pixels."""
    graph = part_graph(model, part, tile)
    return graph_features(graph.module, graph.example_inputs)


def config_features(config: Mapping[str, Any]) -> Features:
    """The config's numeric and boolean knobs (strings are already seen by the op counts)."""
    return {
        f"cfg_{key}": float(value)
        for key, value in config.items()
        if isinstance(value, bool | int | float)
    }


def codec_features(
    build: Callable[[Mapping[str, Any]], ExportableCodec],
    config: Mapping[str, Any],
    part: str,
    tile: int,
) -> Features:
    """Config knobs plus the program's op counts for `config` built by `build`."""
    return {**config_features(config), **part_features(build(config), part, tile)}
