"""What an inheritance did to each parameter of the new codec, counted and JSON-serialisable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

# exact: the whole tensor copied, same shape. sliced: every element copied from a larger source
# tensor. grown: part copied, the rest set function-preservingly (zeros) or left fresh. fresh:
# nothing fitted; the tensor keeps the new codec's initialisation.
Inherited = Literal["exact", "sliced", "grown", "fresh"]
KINDS: tuple[Inherited, ...] = ("exact", "sliced", "grown", "fresh")


@dataclass(frozen=True)
class InheritanceReport:
    """Per parameter of the target codec, how it was initialised; counts in scalar elements."""

    kinds: dict[str, Inherited]  # target parameter name -> how it was initialised
    identity_blocks: tuple[str, ...]  # new residual blocks started as the identity
    inherited_elements: int  # scalars taken from the source (counted once per element)
    total_elements: int

    @property
    def fraction(self) -> float:
        """Share of the target's scalar parameters whose value came from the source."""
        return self.inherited_elements / self.total_elements if self.total_elements else 0.0

    def names(self, kind: Inherited) -> list[str]:
        return [name for name, k in self.kinds.items() if k == kind]

    def summary(self) -> dict[str, Any]:
        """Counts of parameter tensors per kind, identity blocks and the inherited fraction."""
        counts: dict[str, Any] = {kind: len(self.names(kind)) for kind in KINDS}
        counts["identity_blocks"] = len(self.identity_blocks)
        counts["fraction"] = round(self.fraction, 6)
        return counts

    def to_json(self) -> dict[str, Any]:
        doc = self.summary()
        doc.update(
            inherited_elements=self.inherited_elements,
            total_elements=self.total_elements,
            tensors={kind: self.names(kind) for kind in KINDS},
            identity_block_names=list(self.identity_blocks),
        )
        return doc


class Recorder:
    """Collects, while tensors are copied, what each target parameter received."""

    def __init__(self, target: nn.Module) -> None:
        self._sizes = {name: p.numel() for name, p in target.named_parameters()}
        self._kinds: dict[str, Inherited] = dict.fromkeys(self._sizes, "fresh")
        self._copied: dict[str, int] = dict.fromkeys(self._sizes, 0)
        self._identity: list[str] = []

    def record(self, name: str, kind: Inherited, copied: int) -> None:
        if name not in self._sizes:
            raise KeyError(f"inheritance names parameter {name!r}, which the target lacks")
        self._kinds[name] = kind
        self._copied[name] = min(copied, self._sizes[name])

    def identity(self, block_name: str) -> None:
        self._identity.append(block_name)

    def report(self) -> InheritanceReport:
        return InheritanceReport(
            kinds=dict(self._kinds),
            identity_blocks=tuple(self._identity),
            inherited_elements=sum(self._copied.values()),
            total_elements=sum(self._sizes.values()),
        )
