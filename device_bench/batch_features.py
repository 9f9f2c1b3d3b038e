"""Latency features of many configs at once, counted from their architectures (no tracing).

The funnel predicts the latency of 10^5-10^6 configs: tracing each one's graph (features.py, a
few ms each) would take an hour, so this counts the same things arithmetically from
`search_spaces.vectorized.ArchitectureArrays`, one numpy expression per layer of the codec:
MACs, im2col/col2im elements, inputs and outputs per convolution kind; elements per kind of
element-wise op; op counts; and what ONNX Runtime on a CPU prices apart (convs outside its
blocked layout, tensors beyond the caches, transposed convs with few outputs). Convolution
features equal the traced ones exactly (tested); element-wise ones skip the few ops export
folds away (pass masks built from constants).

Units are those of features.py: millions of MACs or elements per tile, plain counts for ops.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from codec.architecture import ACTIVATIONS, BLOCK_KINDS, CHANNEL_NORMALIZATIONS, RESAMPLINGS
from codec.transforms import HYPER_STAGES
from device_bench.features import LARGE_TENSOR, NCHWC_BLOCK
from search_spaces.vectorized import ArchitectureArrays, ConfigBatch, architecture_arrays

_MEGA = 1e-6
CONV_KINDS = ("conv_kxk", "conv1x1", "depthwise", "conv_transpose")
ACTIVATION_FEATURE = {
    "relu": "relu_melems",
    "leaky_relu": "leaky_relu_melems",
    "gelu": "gelu_melems",
    "silu": "silu_melems",
}
KERNEL_SPECIFIC = ("conv_kxk", "depthwise")
LARGE_KERNELS = (5, 7)
FEATURE_NAMES = tuple(
    [f"{kind}_{unit}" for kind in CONV_KINDS for unit in ("mmacs", "count")]
    + [f"{kind}_k{k}_mmacs" for kind in KERNEL_SPECIFIC for k in LARGE_KERNELS]
    + ["unfolded_melems", "conv_in_melems", "conv_out_melems", "cheap_elementwise_melems"]
    + ["relu_melems", "leaky_relu_melems", "gelu_melems", "silu_melems", "exp_melems"]
    + ["softplus_melems", "arithmetic_melems", "data_movement_melems"]
    + ["other_melems", "ops", "plain_mmacs", "plain_unfolded_melems"]
    + ["large_out_melems", "large_elementwise_melems", "huge_out_melems"]
    + ["narrow_transpose_in_melems"]
)

RESAMPLE_CONV = RESAMPLINGS.index("conv")  # the others are a 1x1 conv and a (un)shuffle
DENSE_BLOCKS = [BLOCK_KINDS.index(kind) for kind in ("conv", "residual")]
INVERTED_BLOCKS = [BLOCK_KINDS.index(kind) for kind in ("inverted_residual", "convscale")]


class _Counts:
    """Feature columns for N configs; every add takes an array (or scalar) per config."""

    def __init__(self, n: int) -> None:
        self.columns: defaultdict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))

    def add(self, name: str, amount: np.ndarray | float, ops: np.ndarray | float = 1.0) -> None:
        """`ops` equal element-wise ops (none where 0) with `amount` output elements in all."""
        self.columns[name] = self.columns[name] + amount * _MEGA
        per_op = np.asarray(amount) / np.maximum(ops, 1)  # some adds count several equal ops
        large = per_op > LARGE_TENSOR  # streams through memory
        self.columns["large_elementwise_melems"] = (
            self.columns["large_elementwise_melems"] + large * amount * _MEGA
        )
        self.columns["ops"] = self.columns["ops"] + ops

    def conv(
        self,
        kind: str,
        where: np.ndarray | bool,
        positions_in: np.ndarray,
        positions_out: np.ndarray,
        c_in: np.ndarray | int,
        c_out: np.ndarray | int,
        kernel_area: np.ndarray | int,
    ) -> None:
        """One convolution (or transposed convolution) on the rows where `where` holds."""
        on = np.asarray(where, dtype=float)
        if kind == "conv_transpose":  # every input element scatters to a kernel (col2im)
            macs = positions_in * c_in * c_out * kernel_area
            unfolded = positions_in * c_out * kernel_area
        elif kind == "depthwise":
            macs = positions_out * c_out * kernel_area
            unfolded = macs
        else:  # every output element gathers a kernel (im2col, none for 1x1)
            macs = positions_out * c_in * c_out * kernel_area
            unfolded = 0 if kind == "conv1x1" else positions_out * c_in * kernel_area
        count = self._count
        count(f"{kind}_mmacs", on * macs)
        if kind in KERNEL_SPECIFIC:
            for k in LARGE_KERNELS:  # runtimes tune 3x3 kernels best; larger ones cost more
                count(f"{kind}_k{k}_mmacs", on * (kernel_area == k * k) * macs)
        self.columns[f"{kind}_count"] = self.columns[f"{kind}_count"] + on
        self.columns["ops"] = self.columns["ops"] + on
        outputs = positions_out * c_out
        count("unfolded_melems", on * unfolded)
        count("conv_in_melems", on * positions_in * c_in)
        if kind == "conv_transpose":  # few outputs: a GEMM that mostly reads (packs) its input
            narrow = on * (np.asarray(c_out) < NCHWC_BLOCK)
            count("narrow_transpose_in_melems", narrow * positions_in * c_in)
        count("conv_out_melems", on * outputs)
        # ONNX Runtime runs convs with channels in multiples of its vector block (NCHWc layout,
        # direct kernels); the rest go through im2col + GEMM, slower per MAC.
        blocked = (np.asarray(c_in) % NCHWC_BLOCK == 0) & (np.asarray(c_out) % NCHWC_BLOCK == 0)
        plain = on * (~blocked if kind != "conv_transpose" else np.ones_like(blocked))
        count("plain_mmacs", plain * macs)
        count("plain_unfolded_melems", plain * unfolded)
        # Outputs larger than a core's caches (and than the shared one) stream through memory.
        count("large_out_melems", on * (outputs > LARGE_TENSOR) * outputs)
        count("huge_out_melems", on * (outputs > 4 * LARGE_TENSOR) * outputs)

    def _count(self, name: str, amount: np.ndarray) -> None:
        self.columns[name] = self.columns[name] + amount * _MEGA

    def activation(
        self, arrays: ArchitectureArrays, where: np.ndarray, elements: np.ndarray
    ) -> None:
        for index, name in enumerate(ACTIVATIONS):
            on = where & (arrays.activation == index)
            # A GDN-family choice means ReLU wherever an element-wise activation is needed.
            self.add(ACTIVATION_FEATURE.get(name, "relu_melems"), on * elements, ops=on)

    def level_activation(
        self, arrays: ArchitectureArrays, where: np.ndarray, n: np.ndarray, channels: np.ndarray
    ) -> None:
        """What follows a resampling: the activation, or a GDN (codec/gdn.py) where chosen: a
        1x1 conv over x^2 (|x| when simplified), a square root (not simplified), a divide."""
        gdn = np.zeros_like(where)
        for name in CHANNEL_NORMALIZATIONS:
            on = where & (arrays.activation == ACTIVATIONS.index(name))
            gdn = gdn | on
            elements = on * n * channels
            if name == "gdn":
                self.add("arithmetic_melems", elements, ops=on)
                self.add("sqrt_melems", elements, ops=on)
            else:
                self.add("cheap_elementwise_melems", elements, ops=on)
            self.conv("conv1x1", on, n, n, channels, channels, 1)
            self.add("arithmetic_melems", elements, ops=on)
        self.activation(arrays, where & ~gdn, n * channels)

    def matrix(self) -> np.ndarray:
        return np.column_stack([self.columns[name] for name in FEATURE_NAMES])


def _side(arrays: ArchitectureArrays, tile: int) -> np.ndarray:
    """Padded tile side: a multiple of 2^(stages + hyper stages), as the codec pads."""
    multiple = 2 ** (arrays.stages + np.where(arrays.has_hyper, HYPER_STAGES, 0))
    return -(-tile // multiple) * multiple


def _positions(side: np.ndarray, level: np.ndarray | int) -> np.ndarray:
    return (side >> level).astype(float) ** 2


def _resample(
    f: _Counts,
    arrays: ArchitectureArrays,
    where: np.ndarray,
    low: np.ndarray,
    c_in: np.ndarray | int,
    c_out: np.ndarray | int,
    up: bool,
) -> None:
    """A 2x up- (low -> 4 low positions) or down-sampling (4 low -> low positions)."""
    high, strided = 4 * low, where & (arrays.resampling == RESAMPLE_CONV)
    shuffled = where & (arrays.resampling != RESAMPLE_CONV)
    if up:
        f.conv("conv_transpose", strided, low, high, c_in, c_out, 25)
        f.conv("conv1x1", shuffled, low, low, c_in, 4 * c_out, 1)
        f.add("data_movement_melems", shuffled * high * c_out, ops=shuffled)
    else:
        f.conv("conv_kxk", strided, high, low, c_in, c_out, 25)
        f.add("data_movement_melems", shuffled * high * c_in, ops=shuffled)
        f.conv("conv1x1", shuffled, low, low, 4 * c_in, c_out, 1)


def _blocks(f: _Counts, arrays: ArchitectureArrays, side: str, level: int, n: np.ndarray) -> None:
    channels, repeats, expansion, kernel = (m[level - 1] for m in arrays.side(side))
    area = kernel * kernel
    for _ in range(int(repeats.max(initial=0))):
        repeats = repeats - 1
        on = repeats >= 0
        dense = on & np.isin(arrays.block, DENSE_BLOCKS)
        inverted = on & np.isin(arrays.block, INVERTED_BLOCKS)
        f.conv("conv_kxk", dense, n, n, channels, channels, area)
        f.activation(arrays, dense, n * channels)
        residual = on & (arrays.block == BLOCK_KINDS.index("residual"))
        f.conv("conv_kxk", residual, n, n, channels, channels, area)
        f.add("arithmetic_melems", (residual | inverted) * n * channels, ops=residual | inverted)
        hidden = channels * expansion
        f.conv("conv1x1", inverted, n, n, channels, hidden, 1)
        f.activation(arrays, inverted, n * hidden)
        f.conv("depthwise", inverted, n, n, hidden, hidden, area)
        f.activation(arrays, inverted, n * hidden)
        f.conv("conv1x1", inverted, n, n, hidden, channels, 1)


def _synthesis(f: _Counts, arrays: ArchitectureArrays, side_px: np.ndarray) -> None:
    channels = arrays.dec_channels
    previous = arrays.latent
    for level in range(channels.shape[0], 0, -1):
        present = level < arrays.stages
        low = _positions(side_px, level + 1)
        _resample(f, arrays, present, low, previous, channels[level - 1], up=True)
        n = _positions(side_px, level)
        f.level_activation(arrays, present, n, channels[level - 1])
        _blocks(f, arrays, "dec", level, n)
        previous = np.where(present, channels[level - 1], previous)
    everywhere = np.ones(len(arrays), dtype=bool)
    _resample(f, arrays, everywhere, _positions(side_px, 1), previous, 3, up=True)


def _analysis(f: _Counts, arrays: ArchitectureArrays, side_px: np.ndarray) -> None:
    channels = arrays.enc_channels
    previous: np.ndarray = np.full(len(arrays), 3)
    for level in range(1, channels.shape[0] + 1):
        present = level < arrays.stages
        n = _positions(side_px, level)
        _resample(f, arrays, present, n, previous, channels[level - 1], up=False)
        f.level_activation(arrays, present, n, channels[level - 1])
        _blocks(f, arrays, "enc", level, n)
        previous = np.where(present, channels[level - 1], previous)
    low = _positions(side_px, arrays.stages)
    _resample(f, arrays, np.ones(len(arrays), dtype=bool), low, previous, arrays.latent, up=False)


def _scale_twin(f: _Counts, arrays: ArchitectureArrays, side_px: np.ndarray) -> None:
    """z clamp, 3x3 conv to 4x channels, clamp, depth-to-space (twice), 3x3 conv to the latent's
    indexes, clamp, then index -> scale (mul, add, exp)."""
    on, hc, s = arrays.has_hyper, arrays.hyper, arrays.stages
    z = _positions(side_px, s + HYPER_STAGES)
    y = _positions(side_px, s)
    f.add("cheap_elementwise_melems", on * z * hc, ops=on)
    for low in (z, 4 * z):
        f.conv("conv_kxk", on, low, low, hc, 4 * hc, 9)
        f.add("cheap_elementwise_melems", on * low * 4 * hc, ops=on)
        f.add("data_movement_melems", on * low * 4 * hc, ops=on)
    f.conv("conv_kxk", on, y, y, hc, arrays.latent, 9)
    f.add("cheap_elementwise_melems", on * y * arrays.latent, ops=on)
    f.add("arithmetic_melems", 2 * on * y * arrays.latent, ops=2 * on)
    f.add("exp_melems", on * y * arrays.latent, ops=on)


def _context(f: _Counts, arrays: ArchitectureArrays, side_px: np.ndarray) -> None:
    """Hyper features, then per channel group its hyper/earlier-group conv and every pass's
    spatial conv, head and dequantisation (codec.context_model.ContextModel.run)."""
    on, hc, s = arrays.has_means, arrays.hyper, arrays.stages
    z, y = _positions(side_px, s + HYPER_STAGES), _positions(side_px, s)
    for low in (z, 4 * z):
        f.conv("conv_transpose", on, low, 4 * low, hc, hc, 25)
        f.activation(arrays, on, 4 * low * hc)
    group = arrays.latent // arrays.groups
    outputs = group * np.where(arrays.learned_width, 2, 1)
    for g in range(int(arrays.groups.max(initial=1))):
        in_group = on & (g < arrays.groups)
        inputs = hc + g * group
        f.add("data_movement_melems", in_group * y * inputs, ops=in_group)
        f.conv("conv_kxk", in_group, y, y, inputs, hc, 9)
        f.add("other_melems", in_group * y * group, ops=in_group)
        for k in range(int(arrays.passes.max(initial=1))):
            active = in_group & (k < arrays.passes)
            spatial = active & (k > 0)
            f.conv("conv_kxk", spatial, y, y, group, hc, 9)
            f.add("arithmetic_melems", spatial * y * hc, ops=spatial)
            f.activation(arrays, active, y * hc)
            f.conv("conv1x1", active, y, y, hc, hc, 1)
            f.activation(arrays, active, y * hc)
            f.conv("conv1x1", active, y, y, hc, outputs, 1)
            width = active & arrays.learned_width
            # split (other), + offset, softplus, clamp — or ones_like without a learned width
            f.add("other_melems", width * y * outputs, ops=width)
            f.add("softplus_melems", width * y * group, ops=width)
            f.add("arithmetic_melems", width * y * group, ops=width)
            f.add("cheap_elementwise_melems", width * y * group, ops=width)
            f.add("other_melems", (active & ~arrays.learned_width) * y * group, ops=active & ~width)
            # symbols slice (other); * width + mean; mask * step; current + ...
            sliced = active & (arrays.groups > 1)  # a whole-tensor slice is a free alias
            f.add("other_melems", sliced * y * group, ops=sliced)
            f.add("arithmetic_melems", 4 * active * y * group, ops=4 * active)
    f.add("data_movement_melems", on * y * arrays.latent, ops=on)


def _hyper_analysis(f: _Counts, arrays: ArchitectureArrays, side_px: np.ndarray) -> None:
    """3x3 conv at the latent, activation, two strided 5x5 convs (activation between)."""
    on, hc, s = arrays.has_hyper, arrays.hyper, arrays.stages
    y = _positions(side_px, s)
    f.conv("conv_kxk", on, y, y, arrays.latent, hc, 9)
    f.activation(arrays, on, y * hc)
    f.conv("conv_kxk", on, y, y / 4, hc, hc, 25)
    f.activation(arrays, on, y / 4 * hc)
    f.conv("conv_kxk", on, y / 4, y / 16, hc, hc, 25)


def feature_batch(
    space_batch: ConfigBatch, part: str, tile: int
) -> tuple[tuple[str, ...], np.ndarray]:
    """(feature names, (N, features) matrix) of `part` ("decoder" or "encoder") per `tile`."""
    if part not in ("decoder", "encoder"):
        raise ValueError(f"part must be 'decoder' or 'encoder', got part={part!r}")
    if tile < 1:
        raise ValueError(f"tile must be a positive number of pixels, got tile={tile}")
    arrays = architecture_arrays(space_batch)
    side_px = _side(arrays, tile)
    f = _Counts(len(arrays))
    variable = arrays.rate_points > 1
    y = _positions(side_px, arrays.stages)
    f.add("arithmetic_melems", variable * y * arrays.latent, ops=variable)  # the rate's gain
    if part == "decoder":
        _context(f, arrays, side_px)
        _synthesis(f, arrays, side_px)
    else:
        _analysis(f, arrays, side_px)
        _hyper_analysis(f, arrays, side_px)
        f.add("cheap_elementwise_melems", 2 * y * arrays.latent, ops=2)  # rounding y and z
        _context(f, arrays, side_px)
    _scale_twin(f, arrays, side_px)
    return FEATURE_NAMES, f.matrix()
