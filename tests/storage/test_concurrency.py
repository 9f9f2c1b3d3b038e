"""Two controllers (two stores, two threads) on one database race for the same trials."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from nas.domain import TrialRecord, TrialState
from nas.errors import CodecnasError, StateConflictError
from tests.storage.conftest import StoreFactory

T = TypeVar("T")
ROUNDS = 12


def race(first: Callable[[], T], second: Callable[[], T]) -> list[T | CodecnasError]:
    """Run both at (nearly) the same instant; return each result or the exception it raised."""
    barrier = threading.Barrier(2)

    def run(call: Callable[[], T]) -> T | CodecnasError:
        barrier.wait()
        try:
            return call()
        except CodecnasError as exc:  # the loser's error is part of the result
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, (first, second)))


def test_exactly_one_of_two_concurrent_starts_wins(open_store: StoreFactory) -> None:
    one, two = open_store(), open_store()
    campaign = one.create_campaign("race", {})
    trials = [one.create_trial(campaign.id, {"i": i}, f"h{i}") for i in range(ROUNDS)]

    for trial in trials:
        outcome = race(
            partial(one.start_trial, trial.id, worker="one"),
            partial(two.start_trial, trial.id, worker="two"),
        )
        winners = [r for r in outcome if isinstance(r, TrialRecord)]
        losers = [r for r in outcome if isinstance(r, Exception)]
        assert len(winners) == 1, outcome
        assert len(losers) == 1 and isinstance(losers[0], StateConflictError), outcome
        assert "it is running" in str(losers[0])
        stored = two.trial(trial.id)
        assert stored.state is TrialState.RUNNING and stored.attempts == 1
        assert stored.worker == winners[0].worker


def test_concurrent_trial_creation_numbers_without_gaps_or_clashes(
    open_store: StoreFactory,
) -> None:
    one, two = open_store(), open_store()
    campaign = one.create_campaign("numbering", {})

    def create_many(store_name: str) -> Callable[[], list[int]]:
        store = one if store_name == "one" else two
        return lambda: [
            store.create_trial(campaign.id, {"by": store_name, "i": i}, "h").number
            for i in range(ROUNDS)
        ]

    outcome = race(create_many("one"), create_many("two"))
    assert not any(isinstance(r, Exception) for r in outcome), outcome
    assert sorted(n for numbers in outcome for n in numbers) == list(range(2 * ROUNDS))  # type: ignore[union-attr]
