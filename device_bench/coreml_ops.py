"""ATen ops that coremltools 9.0's torch.export frontend misses, lowered to MIL ops it has.

Found by converting the `pico` space (device_bench.coreml_survey): the mean-predicting entropy
models' graphs hold
- `aten.alias` (a no-op view the exporter keeps): not in coremltools' op registry at all;
- `aten.__and__` on boolean masks (the checkerboard / 2x2 context grids): coremltools has the op
  (`bitwise_and`, registered as "and"), but its torch.export frontend looks up the name
  "__and__", because it strips the dunder before removing the "aten::" prefix.
Without these, 30% of the sampled pico configs were "infeasible for Core ML" for no reason a phone
would care about. Registered through coremltools' own registry, once per process.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def register_missing_ops() -> None:
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.frontend.torch.ops import _get_inputs
    from coremltools.converters.mil.frontend.torch.torch_op_registry import (
        _TORCH_OPS_REGISTRY,
        register_torch_op,
    )

    registry = _TORCH_OPS_REGISTRY.name_to_func_mapping

    def codecnas_alias(context: Any, node: Any) -> None:
        (x,) = _get_inputs(context, node, expected=1)
        context.add(mb.identity(x=x, name=node.name))

    if "alias" not in registry:  # a later coremltools may lower it itself: keep its own
        register_torch_op(codecnas_alias, torch_alias=["alias"])
    if "__and__" not in registry and "and" in registry:
        # The frontend checks for "__and__", then converts with the "and" lowering (bool only).
        _TORCH_OPS_REGISTRY.set_func_by_name(registry["and"], "__and__")
