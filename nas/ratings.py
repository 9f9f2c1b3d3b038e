"""Blind pairwise ratings of reconstructions, and a Bradley–Terry score per contestant.

PICO's authors trusted human ratings over metrics for the final pick, so a rater is shown two
reconstructions of the same image at similar bpp and says which is better, or "same". The
contestants are trials (``"trial:<id>"``) or anchor codecs encoded at the trial's bpp
(``"jpeg"``, ``"avif"``). The Bradley–Terry model (P(i beats j) = 1 / (1 + exp(s_j - s_i)))
is fitted by maximum a-posteriori with choix; a tie counts as one win each way. The Gaussian
prior (``alpha``) keeps a contestant with one win from getting an unbounded score. Scores are
also given on the Elo scale (1500 + 400 s / ln 10), where a 400-point gap means 10:1 odds.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nas.errors import InvalidValueError

ANCHOR_CONTESTANTS = ("jpeg", "avif")
# Fitted scores are recorded on trials under this metric (Elo scale; higher is better).
RATING_METRIC = "rating_score"
_TRIAL_PREFIX = "trial:"
ELO_BASE = 1500.0
_ELO_PER_UNIT = 400.0 / math.log(10.0)


class Outcome(enum.StrEnum):
    FIRST = "first"  # the first reconstruction looks better
    SECOND = "second"
    SAME = "same"


def trial_contestant(trial_id: int) -> str:
    return f"{_TRIAL_PREFIX}{trial_id}"


def contestant_trial_id(contestant: str) -> int | None:
    """The trial id of ``"trial:<id>"``, None for an anchor; InvalidValueError otherwise."""
    if contestant in ANCHOR_CONTESTANTS:
        return None
    digits = contestant.removeprefix(_TRIAL_PREFIX)
    if contestant.startswith(_TRIAL_PREFIX) and digits.isdigit() and digits.isascii():
        return int(digits)
    raise InvalidValueError(
        f"unknown contestant {contestant!r}: expected 'trial:<id>' or one of {ANCHOR_CONTESTANTS}"
    )


@dataclass(frozen=True)
class PairwiseRating:
    """One judgement of one rater on one image; bpp of both sides kept for the record."""

    campaign_id: int
    rater: str
    image: str
    first: str
    second: str
    outcome: Outcome
    first_bpp: float | None = None
    second_bpp: float | None = None


@dataclass(frozen=True)
class ContestantScore:
    contestant: str
    strength: float  # Bradley–Terry log-strength; the scores of one fit average to zero
    elo: float
    wins: int
    losses: int
    ties: int

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def trial_id(self) -> int | None:
        return contestant_trial_id(self.contestant)


def bradley_terry(ratings: Sequence[PairwiseRating], alpha: float = 0.1) -> list[ContestantScore]:
    """Scores of every contestant that appears in ``ratings``, best first."""
    if not alpha > 0:
        raise InvalidValueError(f"alpha must be > 0 (the prior's precision), got {alpha!r}")
    names = sorted({r.first for r in ratings} | {r.second for r in ratings})
    if not names:
        return []
    index = {name: i for i, name in enumerate(names)}
    comparisons: list[tuple[int, int]] = []  # (winner, loser)
    wins: Counter[str] = Counter()
    losses: Counter[str] = Counter()
    ties: Counter[str] = Counter()
    for r in ratings:
        a, b = index[r.first], index[r.second]
        if r.outcome == Outcome.FIRST:
            comparisons.append((a, b))
            wins[r.first] += 1
            losses[r.second] += 1
        elif r.outcome == Outcome.SECOND:
            comparisons.append((b, a))
            wins[r.second] += 1
            losses[r.first] += 1
        else:
            # A tie pulls the two scores together: one win each way.
            comparisons.extend([(a, b), (b, a)])
            ties[r.first] += 1
            ties[r.second] += 1
    import choix  # here: it loads scipy (~1 s), which only fitting ratings needs

    strengths = choix.opt_pairwise(len(names), comparisons, alpha=alpha)
    scores = [
        ContestantScore(
            contestant=name,
            strength=float(strengths[i]),
            elo=ELO_BASE + _ELO_PER_UNIT * float(strengths[i]),
            wins=wins[name],
            losses=losses[name],
            ties=ties[name],
        )
        for name, i in index.items()
    ]
    return sorted(scores, key=lambda s: (-s.strength, s.contestant))
