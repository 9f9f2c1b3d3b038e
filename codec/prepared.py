"""What prepare_for_coding() freezes: the inference form of a codec and the weights it came from.

Coding must use a deterministic function of the weights: integer tables, the integer scale
decoder, folded transforms. They are derived once, and every compress/decompress checks that
the weights did not change since (training, load_state_dict): stale tables would still
round-trip inside this process, but another process that loads the same weights builds other
tables and could not decode, so a stale model refuses to code instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from codec.entropy.integer_scales import IntegerScaleDecoder
from codec.errors import CodingNotPreparedError
from codec.folding import fold_for_inference
from codec.latent_codecs import HyperLatentCodec


@dataclass
class PreparedCodec:
    analysis: nn.Module
    synthesis: nn.Module
    scale_decoder: IntegerScaleDecoder | None
    parameters: list[torch.Tensor]  # copies, as they were when prepared


def prepare(
    model: nn.Module, analysis: nn.Module, synthesis: nn.Module, hyper: HyperLatentCodec | None
) -> PreparedCodec:
    """Build every entropy model's tables in `model`, then freeze its inference form."""
    for module in model.modules():
        build_tables = getattr(module, "prepare_for_coding", None)
        if module is not model and callable(build_tables):
            build_tables()
    return PreparedCodec(
        analysis=fold_for_inference(analysis),
        synthesis=fold_for_inference(synthesis),
        scale_decoder=None if hyper is None else hyper.h_s.freeze(),
        parameters=[p.detach().clone() for p in model.parameters()],
    )


def require_fresh(prepared: PreparedCodec | None, model: nn.Module) -> PreparedCodec:
    """`prepared` if it still matches the model's parameters; CodingNotPreparedError if not."""
    if prepared is None:
        raise CodingNotPreparedError(
            "no coding tables: call prepare_for_coding() after training or load_state_dict()"
        )
    current = list(model.parameters())
    if len(current) != len(prepared.parameters) or not all(
        torch.equal(a, b) for a, b in zip(prepared.parameters, current, strict=True)
    ):
        raise CodingNotPreparedError(
            "the model's parameters changed since prepare_for_coding() built the tables "
            "(training or load_state_dict): call prepare_for_coding() again"
        )
    return prepared
