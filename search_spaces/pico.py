"""The `pico` space: the design knobs PICO's authors found to matter (DESIGN.md).

Per resolution level i (1..3) of the analysis (`enc_*`) and synthesis (`dec_*`) transforms a
CS-Chain(C, R, E, F): channels `*_c{i}`, repeats `*_r{i}`, expansion `*_e{i}`, kernel `*_f{i}`;
the block kind (ConvScale inverted residual, plain inverted residual, residual, conv), the
resampling (Haar, pixel shuffle, strided conv), the number of stages, latent and hyper
channels, the entropy model (factorized, scale or mean-scale hyperprior, one-shot context model
on a checkerboard or 2x2 grid), channel groups, learned quantization width, variable rate, and
the inference tile (PICO: 512 with a 4-pixel margin).

Every combination is valid: a knob that does not apply to a config (level 3 with 3 stages,
channel groups without means, ...) is ignored when the architecture is built, so samplers can
move each knob freely. The small end (3 stages, 16-32 channels, no repeats) trains on 64 px
crops on a CPU; the large end holds PICO-sized decoders (PICO_LIKE_CONFIG: 38.9 kMACs/px).
"""

from __future__ import annotations

from codec.architecture import CodecArchitecture, StageSpec
from search_spaces.params import Categorical, IntRange, Param
from search_spaces.space import Config, SearchSpace

LEVELS = 3  # levels with blocks when stages = 4; stages = 3 uses the first two
LEVEL_CHANNELS = {
    1: (16, 24, 32, 48, 64, 96, 128),
    2: (24, 32, 48, 64, 96, 128, 192),
    3: (32, 48, 64, 96, 128, 192),
}
# Haar and pixel-shuffle resamplings are 1x1 convs on non-overlapping 2x2 blocks: a level
# without blocks would make a block transform with nothing mixing across block borders
# (visible blocking). Such levels get this many blocks at least; strided 5x5 convs overlap.
MIN_REPEATS_BLOCKWISE = 1
MAX_REPEATS = 4
EXPANSIONS = (1, 2, 3, 4, 6)
KERNELS = (3, 5, 7)
VARIABLE_RATE_POINTS = 6


def _level_params(side: str) -> list[Param]:
    params: list[Param] = []
    for level in range(1, LEVELS + 1):
        params += [
            Categorical(f"{side}_c{level}", LEVEL_CHANNELS[level]),
            IntRange(f"{side}_r{level}", 0, MAX_REPEATS),
            Categorical(f"{side}_e{level}", EXPANSIONS),
            Categorical(f"{side}_f{level}", KERNELS),
        ]
    return params


def effective_repeats(repeats: int, resampling: str) -> int:
    """Blocks a level gets: at least MIN_REPEATS_BLOCKWISE with block-wise resampling."""
    return repeats if resampling == "conv" else max(repeats, MIN_REPEATS_BLOCKWISE)


def _stages(config: Config, side: str) -> tuple[StageSpec, ...]:
    return tuple(
        StageSpec(
            channels=config[f"{side}_c{level}"],
            repeats=effective_repeats(config[f"{side}_r{level}"], config["resampling"]),
            expansion=config[f"{side}_e{level}"],
            kernel_size=config[f"{side}_f{level}"],
        )
        for level in range(1, config["stages"])
    )


def pico_architecture(config: Config) -> CodecArchitecture:
    entropy_model = config["entropy_model"]
    has_means = entropy_model in ("mean_scale_hyperprior", "context")
    encoder_stages = _stages(config, "enc")
    return CodecArchitecture(
        channels=encoder_stages[0].channels,  # unused: every level has its own spec
        latent_channels=config["latent_channels"],
        stages=config["stages"],
        block=config["block"],
        activation=config["activation"],
        hyperprior=entropy_model != "factorized",
        hyper_channels=config["hyper_channels"],
        encoder_stages=encoder_stages,
        decoder_stages=_stages(config, "dec"),
        resampling=config["resampling"],
        entropy_model=entropy_model,
        context_grid=config["context_grid"],
        channel_groups=config["channel_groups"] if has_means else 1,
        learned_width=config["learned_width"] and has_means,
        rate_points=VARIABLE_RATE_POINTS if config["variable_rate"] else 1,
        tile_size=config["tile_size"],
        tile_margin=config["tile_margin"],
    )


PICO_SPACE = SearchSpace(
    name="pico",
    description=(
        "PICO's knobs: per-level CS-Chain(C, R, E, F) backbones, Haar / pixel-shuffle / conv "
        "resampling, factorized, scale, mean-scale or one-shot context entropy models with "
        "an integer scale decoder, channel groups, learned quantization width, variable rate, "
        "inference tile size."
    ),
    params=(
        Categorical("stages", (3, 4)),
        *_level_params("enc"),
        *_level_params("dec"),
        Categorical("block", ("convscale", "inverted_residual", "residual", "conv")),
        Categorical("activation", ("relu", "silu", "gelu", "leaky_relu", "gdn", "simplified_gdn")),
        Categorical("resampling", ("haar", "pixel_shuffle", "conv")),
        Categorical("latent_channels", (64, 96, 128, 160, 192, 256, 320)),
        Categorical("hyper_channels", (32, 48, 64, 96, 128, 192)),
        Categorical(
            "entropy_model", ("context", "mean_scale_hyperprior", "scale_hyperprior", "factorized")
        ),
        Categorical("context_grid", ("checkerboard", "2x2")),
        Categorical("channel_groups", (1, 2, 4)),
        Categorical("learned_width", (True, False)),
        Categorical("variable_rate", (False, True)),
        Categorical("tile_size", (512, 256, 768, 1024)),
        Categorical("tile_margin", (4, 0, 8, 16)),
    ),
    to_architecture=pico_architecture,
)


def _levels(side: str, values: tuple[tuple[int, int, int, int], ...]) -> Config:
    config: Config = {}
    for level, (c, r, e, f) in enumerate(values, start=1):
        config.update({f"{side}_c{level}": c, f"{side}_r{level}": r})
        config.update({f"{side}_e{level}": e, f"{side}_f{level}": f})
    return config


# A decoder inside PICO's 32.7-48 kMACs/px band (38.9k; encoder 55.2k), built like PICO:
# ConvScale chains, Haar resampling, a checkerboard context model with learned width, 504 px
# tiles in 512.
PICO_LIKE_CONFIG: Config = {
    "stages": 4,
    **_levels("enc", ((64, 2, 4, 3), (128, 2, 4, 3), (192, 2, 4, 5))),
    **_levels("dec", ((48, 2, 4, 3), (96, 3, 4, 3), (128, 3, 4, 5))),
    "block": "convscale",
    "activation": "relu",
    "resampling": "haar",
    "latent_channels": 192,
    "hyper_channels": 128,
    "entropy_model": "context",
    "context_grid": "checkerboard",
    "channel_groups": 2,
    "learned_width": True,
    "variable_rate": False,
    "tile_size": 512,
    "tile_margin": 4,
}
