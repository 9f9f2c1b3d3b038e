"""A trial's codec starts from the trained weights its job carries (inheritance) or fresh."""

from __future__ import annotations

from codec.model import LearnedCodec
from nas.domain import InitSource, JsonDict
from search_spaces.inheritance.structure import inherit_weights
from search_spaces.inheritance.trained import trained_codec


def initialise(model: LearnedCodec, source: InitSource | None) -> JsonDict:
    """Copy what fits of `source` into the fresh `model`; what to store with the trial."""
    if source is None:
        return {"kind": "scratch"}
    trained = trained_codec(source.space, source.config, source.weights)
    report = inherit_weights(model, trained)
    return {**source.described, **report.summary()}
