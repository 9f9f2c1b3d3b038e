"""Architectures and MACs of a whole `ConfigBatch` at once, for screening a million configs.

`architecture_arrays` maps a batch to `ArchitectureArrays`: the fields of `CodecArchitecture`
that cost time, one array per field (string knobs as indices into codec.architecture's tuples,
backbone levels as (levels, N) matrices with unused levels zeroed). Registered spaces have a
vectorised mapping; any other space falls back to building each config's architecture.

`macs_batch` then applies the very helpers `codec.macs` uses for one config (they are plain
arithmetic, so they take arrays), one categorical choice at a time: its result equals
`search_spaces.macs.config_macs` for every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from codec.architecture import (
    ACTIVATIONS,
    BLOCK_KINDS,
    CHANNEL_NORMALIZATIONS,
    CONTEXT_GRIDS,
    ENTROPY_MODELS,
    MAX_STAGES,
    RESAMPLINGS,
)
from codec.macs import (
    RESAMPLING_FACTOR,
    block_macs,
    hyper_encoder_macs,
    mean_network_macs,
    scale_decoder_macs,
)
from search_spaces.config_batch import ConfigBatch, batch_from_configs, sample_batch
from search_spaces.pico import LEVELS as PICO_LEVELS
from search_spaces.pico import MIN_REPEATS_BLOCKWISE, VARIABLE_RATE_POINTS
from search_spaces.space import SearchSpace

__all__ = [
    "ArchitectureArrays",
    "ConfigBatch",
    "architecture_arrays",
    "batch_from_configs",
    "macs_batch",
    "sample_batch",
]

MAX_LEVELS = MAX_STAGES - 1
FACTORIZED = ENTROPY_MODELS.index("factorized")
CONTEXT = ENTROPY_MODELS.index("context")
MEAN_MODELS = (ENTROPY_MODELS.index("mean_scale_hyperprior"), CONTEXT)


@dataclass(frozen=True)
class ArchitectureArrays:
    """The cost-relevant fields of N architectures; all arrays have length N (levels: (L, N))."""

    stages: np.ndarray
    latent: np.ndarray
    block: np.ndarray  # index into BLOCK_KINDS
    activation: np.ndarray  # index into ACTIVATIONS
    resampling: np.ndarray  # index into RESAMPLINGS
    enc_channels: np.ndarray  # (MAX_LEVELS, N); 0 where the level does not exist
    enc_repeats: np.ndarray
    enc_expansion: np.ndarray
    enc_kernel: np.ndarray
    dec_channels: np.ndarray
    dec_repeats: np.ndarray
    dec_expansion: np.ndarray
    dec_kernel: np.ndarray
    entropy_model: np.ndarray  # index into ENTROPY_MODELS (the effective model)
    hyper: np.ndarray  # effective hyper channels
    groups: np.ndarray  # effective channel groups (1 without means)
    passes: np.ndarray  # spatial passes of the mean network (1 without a context model)
    learned_width: np.ndarray  # bool, effective
    rate_points: np.ndarray
    tile_size: np.ndarray
    tile_margin: np.ndarray

    def __len__(self) -> int:
        return len(self.stages)

    @property
    def has_means(self) -> np.ndarray:
        return np.isin(self.entropy_model, MEAN_MODELS)

    @property
    def has_hyper(self) -> np.ndarray:
        return self.entropy_model != FACTORIZED

    def side(self, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(channels, repeats, expansion, kernel) level matrices of 'enc' or 'dec'."""
        return (
            getattr(self, f"{side}_channels"),
            getattr(self, f"{side}_repeats"),
            getattr(self, f"{side}_expansion"),
            getattr(self, f"{side}_kernel"),
        )


def _index_of(values: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(vocabulary)}
    return np.fromiter((lookup[v] for v in values), dtype=np.int8, count=len(values))


def _vocab_column(batch: ConfigBatch, name: str, vocabulary: tuple[str, ...]) -> np.ndarray:
    """A string categorical as indices into `vocabulary`, mapping only the few choices."""
    param = batch.space.param(name)
    remap = _index_of(np.asarray(param.choices, dtype=object), vocabulary)  # type: ignore[union-attr]
    return remap[batch.columns[name]]


LEVEL_FIELDS = ("channels", "repeats", "expansion", "kernel")


def _pico_side(batch: ConfigBatch, side: str, stages: np.ndarray) -> dict[str, np.ndarray]:
    matrices = {}
    blockwise = _vocab_column(batch, "resampling", RESAMPLINGS) != RESAMPLINGS.index("conv")
    for field, short in zip(LEVEL_FIELDS, ("c", "r", "e", "f"), strict=True):
        rows = [np.zeros(len(batch), dtype=np.int64) for _ in range(MAX_LEVELS)]
        for level in range(1, PICO_LEVELS + 1):
            present = level < stages
            values = batch.values(f"{side}_{short}{level}")
            if short == "r":  # search_spaces.pico.effective_repeats, vectorised
                values = np.where(blockwise, np.maximum(values, MIN_REPEATS_BLOCKWISE), values)
            rows[level - 1] = np.where(present, values, 0)
        matrices[f"{side}_{field}"] = np.stack(rows).astype(np.int64)
    return matrices


def _pico_arrays(batch: ConfigBatch) -> ArchitectureArrays:
    stages = batch.values("stages").astype(np.int64)
    entropy = _vocab_column(batch, "entropy_model", ENTROPY_MODELS).astype(np.int64)
    has_means = np.isin(entropy, MEAN_MODELS)
    grid = _vocab_column(batch, "context_grid", CONTEXT_GRIDS)
    passes = np.where(entropy == CONTEXT, np.where(grid == 0, 2, 4), 1)
    return ArchitectureArrays(
        stages=stages,
        latent=batch.values("latent_channels").astype(np.int64),
        block=_vocab_column(batch, "block", BLOCK_KINDS),
        activation=_vocab_column(batch, "activation", ACTIVATIONS),
        resampling=_vocab_column(batch, "resampling", RESAMPLINGS),
        **_pico_side(batch, "enc", stages),
        **_pico_side(batch, "dec", stages),
        entropy_model=entropy,
        hyper=batch.values("hyper_channels").astype(np.int64),
        groups=np.where(has_means, batch.values("channel_groups"), 1).astype(np.int64),
        passes=passes.astype(np.int64),
        learned_width=batch.values("learned_width").astype(bool) & has_means,
        rate_points=np.where(batch.values("variable_rate"), VARIABLE_RATE_POINTS, 1),
        tile_size=batch.values("tile_size").astype(np.int64),
        tile_margin=batch.values("tile_margin").astype(np.int64),
    )


def _basic_arrays(batch: ConfigBatch) -> ArchitectureArrays:
    """`basic`: every level has `channels` channels, one block, expansion 4, kernel 3."""
    n = len(batch)
    stages = batch.values("stages").astype(np.int64)
    channels = batch.values("channels").astype(np.int64)
    present = np.arange(1, MAX_LEVELS + 1)[:, None] < stages[None, :]
    level_channels = np.where(present, channels[None, :], 0)
    hyper = batch.values("hyperprior").astype(bool)
    uniform = (level_channels, present.astype(np.int64), 4 * present, 3 * present)
    levels = {
        f"{side}_{field}": matrix
        for side in ("enc", "dec")
        for field, matrix in zip(LEVEL_FIELDS, uniform, strict=True)
    }
    ones = np.ones(n, dtype=np.int64)
    return ArchitectureArrays(
        stages=stages,
        latent=batch.values("latent_channels").astype(np.int64),
        block=_vocab_column(batch, "block", BLOCK_KINDS),
        activation=_vocab_column(batch, "activation", ACTIVATIONS),
        resampling=np.full(n, RESAMPLINGS.index("conv"), dtype=np.int8),
        **levels,
        entropy_model=np.where(hyper, ENTROPY_MODELS.index("scale_hyperprior"), FACTORIZED),
        hyper=channels,
        groups=ones,
        passes=ones,
        learned_width=np.zeros(n, dtype=bool),
        rate_points=ones,
        tile_size=np.full(n, 512, dtype=np.int64),
        tile_margin=np.full(n, 4, dtype=np.int64),
    )


def _per_config_arrays(batch: ConfigBatch) -> ArchitectureArrays:
    """Any space: build each architecture (slow, but exact for spaces without a mapping)."""
    archs = [batch.space.architecture(c) for c in batch.configs()]
    n = len(archs)

    def column(get: Callable[..., object], dtype: type = np.int64) -> np.ndarray:
        return np.fromiter((get(a) for a in archs), dtype=dtype, count=n)

    def levels(stage_attr: str, field: str) -> np.ndarray:
        out = np.zeros((MAX_LEVELS, n), dtype=np.int64)
        for j, arch in enumerate(archs):
            for i, spec in enumerate(getattr(arch, stage_attr)):
                out[i, j] = getattr(spec, field)
        return out

    spec_fields = ("channels", "repeats", "expansion", "kernel_size")
    level_matrices = {
        f"{side}_{field}": levels(stage_attr, spec_field)
        for side, stage_attr in (("enc", "analysis_stages"), ("dec", "synthesis_stages"))
        for field, spec_field in zip(LEVEL_FIELDS, spec_fields, strict=True)
    }
    return ArchitectureArrays(
        stages=column(lambda a: a.stages),
        latent=column(lambda a: a.latent_channels),
        block=column(lambda a: BLOCK_KINDS.index(a.block), np.int8),
        activation=column(lambda a: ACTIVATIONS.index(a.activation), np.int8),
        resampling=column(lambda a: RESAMPLINGS.index(a.resampling), np.int8),
        **level_matrices,
        entropy_model=column(lambda a: ENTROPY_MODELS.index(a.effective_entropy_model)),
        hyper=column(lambda a: a.effective_hyper_channels),
        groups=column(lambda a: a.channel_groups),
        passes=column(lambda a: a.spatial_passes),
        learned_width=column(lambda a: a.learned_width, bool),
        rate_points=column(lambda a: a.rate_points),
        tile_size=column(lambda a: a.tile_size),
        tile_margin=column(lambda a: a.tile_margin),
    )


_VECTORISED: dict[str, Callable[[ConfigBatch], ArchitectureArrays]] = {
    "pico": _pico_arrays,
    "basic": _basic_arrays,
}


def architecture_arrays(batch: ConfigBatch) -> ArchitectureArrays:
    """The architecture of every row (vectorised for `pico`; built one by one otherwise)."""
    mapping = _VECTORISED.get(batch.space.name, _per_config_arrays)
    return mapping(batch)


def block_macs_batch(block: np.ndarray, c: np.ndarray, e: np.ndarray, k: np.ndarray) -> np.ndarray:
    """`codec.macs.block_macs` per row, each row with its own block kind."""
    out = np.zeros(np.broadcast(block, c).shape, dtype=np.int64)
    for index, kind in enumerate(BLOCK_KINDS):
        rows = np.broadcast_to(block == index, out.shape)
        if rows.any():
            out[rows] = block_macs(kind, c[rows], e[rows], k[rows])
    return out


def resampling_factor(arrays: ArchitectureArrays) -> np.ndarray:
    factors = np.array([RESAMPLING_FACTOR[kind] for kind in RESAMPLINGS], dtype=np.int64)
    return factors[arrays.resampling]


def transform_macs_batch(arrays: ArchitectureArrays, side: str) -> np.ndarray:
    """codec.macs._transform_macs per row (same operations in the same order)."""
    channels, repeats, expansion, kernel = arrays.side(side)
    factor = resampling_factor(arrays)
    normalized = np.isin(arrays.activation, [ACTIVATIONS.index(a) for a in CHANNEL_NORMALIZATIONS])
    total = np.zeros(len(arrays))
    previous = np.full(len(arrays), 3, dtype=np.int64)
    for level in range(1, MAX_LEVELS + 1):
        present = level < arrays.stages
        area = 4.0**-level
        c = channels[level - 1]
        blocks = block_macs_batch(arrays.block, c, expansion[level - 1], kernel[level - 1])
        total = total + np.where(present, area * (factor * previous * c), 0.0)
        total = total + np.where(present & normalized, area * c * c, 0)
        total = total + np.where(present, area * repeats[level - 1] * blocks, 0.0)
        previous = np.where(present, c, previous)
    return total + 4.0 ** -arrays.stages.astype(float) * (factor * previous * arrays.latent)


def entropy_macs_batch(arrays: ArchitectureArrays) -> tuple[np.ndarray, np.ndarray]:
    """(hyper-encoder, shared) MACs per pixel per row; zero for factorized priors."""
    # codec.macs annotates stages as int; the arithmetic is the same on arrays.
    s: Any = arrays.stages.astype(float)
    m, hc = arrays.latent, arrays.hyper
    hyper = arrays.has_hyper
    shared = np.where(hyper, scale_decoder_macs(s, m, hc), 0.0)
    means = arrays.has_means
    for groups in np.unique(arrays.groups[means]):
        for learned in (False, True):
            rows = means & (arrays.groups == groups) & (arrays.learned_width == learned)
            if rows.any():
                shared[rows] = shared[rows] + mean_network_macs(
                    s[rows], m[rows], hc[rows], int(groups), arrays.passes[rows], learned
                )
    return np.where(hyper, hyper_encoder_macs(s, m, hc), 0.0), shared


def macs_batch(space: SearchSpace, batch: ConfigBatch) -> tuple[np.ndarray, np.ndarray]:
    """(encoder, decoder) kMACs per pixel of every row: `config_macs(...) / 1000` vectorised."""
    if batch.space.name != space.name:
        raise ValueError(f"batch of space {batch.space.name!r} given with space {space.name!r}")
    arrays = architecture_arrays(batch)
    hyper_encoder, shared = entropy_macs_batch(arrays)
    encoder = transform_macs_batch(arrays, "enc") + hyper_encoder + shared
    decoder = transform_macs_batch(arrays, "dec") + shared
    return encoder / 1000.0, decoder / 1000.0
