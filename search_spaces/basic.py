"""The `basic` space: the backbone knobs every learned codec has, small enough for CPU training."""

from __future__ import annotations

from codec.architecture import CodecArchitecture
from search_spaces.params import Categorical
from search_spaces.space import Config, SearchSpace


def _architecture(config: Config) -> CodecArchitecture:
    return CodecArchitecture(
        channels=config["channels"],
        latent_channels=config["latent_channels"],
        stages=config["stages"],
        block=config["block"],
        activation=config["activation"],
        hyperprior=config["hyperprior"],
    )


BASIC_SPACE = SearchSpace(
    name="basic",
    description=(
        "Analysis/synthesis transforms of `stages` 2x resamplings with one block each, "
        "factorized prior or scale hyperprior."
    ),
    params=(
        Categorical("channels", (16, 24, 32, 48, 64)),
        Categorical("stages", (2, 3, 4)),
        Categorical("block", ("conv", "residual", "inverted_residual")),
        Categorical("activation", ("relu", "gelu", "leaky_relu", "silu")),
        Categorical("latent_channels", (32, 48, 64, 96)),
        Categorical("hyperprior", (False, True)),
    ),
    to_architecture=_architecture,
)
