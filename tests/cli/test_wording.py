"""What the CLI and the dashboard say: counts agree with their nouns ("1 trial", "2 raters")."""

from __future__ import annotations

import pytest

from codecnas.reports import counted


@pytest.mark.parametrize(
    "n, noun, text",
    [(0, "trial", "0 trials"), (1, "trial", "1 trial"), (2, "rater", "2 raters"),
     (1, "unfinished trial", "1 unfinished trial")],
)  # fmt: skip
def test_counts_take_the_singular_only_for_one(n: int, noun: str, text: str) -> None:
    assert counted(n, noun) == text
