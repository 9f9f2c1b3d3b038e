"""Search-space parameters as small validated value objects that serialise to JSON.

Modelled on optuna/distributions.py and pymoo/core/variable.py: a parameter knows its name, its
domain, how to check a value, how to draw one, and how to round-trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

JsonScalar = bool | int | float | str


@dataclass(frozen=True)
class Categorical:
    """An unordered choice among JSON scalars (booleans, strings, or numbers)."""

    name: str
    choices: tuple[JsonScalar, ...]

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError(f"parameter {self.name!r}: choices must not be empty")
        if len(set(map(repr, self.choices))) != len(self.choices):
            raise ValueError(f"parameter {self.name!r}: duplicate choices {self.choices!r}")

    def check(self, value: Any) -> str | None:
        """Return why `value` is not allowed, or None when it is."""
        # bool is an int in Python: 1 must not pass for True, nor True for 1.
        if any(type(value) is type(c) and value == c for c in self.choices):
            return None
        return f"{value!r} is not one of {list(self.choices)!r}"

    def sample(self, rng: np.random.Generator) -> JsonScalar:
        return self.choices[int(rng.integers(len(self.choices)))]

    def to_json(self) -> dict[str, Any]:
        return {"type": "categorical", "name": self.name, "choices": list(self.choices)}


@dataclass(frozen=True)
class IntRange:
    """An ordered integer range low..high (inclusive) on a grid of `step`."""

    name: str
    low: int
    high: int
    step: int = 1

    def __post_init__(self) -> None:
        if self.step < 1 or self.low > self.high or (self.high - self.low) % self.step:
            raise ValueError(
                f"parameter {self.name!r}: bad range "
                f"low={self.low} high={self.high} step={self.step}"
            )

    def check(self, value: Any) -> str | None:
        if type(value) is not int:
            return f"{value!r} is not an integer"
        if not self.low <= value <= self.high or (value - self.low) % self.step:
            return f"{value!r} is not in {self.low}..{self.high} (step {self.step})"
        return None

    def sample(self, rng: np.random.Generator) -> int:
        return self.low + self.step * int(rng.integers((self.high - self.low) // self.step + 1))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "int",
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "step": self.step,
        }


Param = Categorical | IntRange


def param_from_json(data: dict[str, Any]) -> Param:
    """Inverse of `to_json`, for specs and stored spaces."""
    kind = data.get("type")
    if kind == "categorical":
        return Categorical(name=data["name"], choices=tuple(data["choices"]))
    if kind == "int":
        return IntRange(
            name=data["name"], low=data["low"], high=data["high"], step=data.get("step", 1)
        )
    raise ValueError(f"unknown parameter type {kind!r} (expected 'categorical' or 'int')")
