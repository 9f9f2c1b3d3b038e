"""What one controller knows of its campaign, kept in step with the other controllers on it.

Loaded once from storage at start, then updated from this controller's own results and, before
each new config is asked for, from the trials other controllers created or finished since (one
indexed query; nothing when this controller is alone). The sampler is told every finished trial
once and marks every config in the campaign as seen, so no controller proposes a config twice.
"""

from __future__ import annotations

from collections.abc import Callable

from nas.domain import TrialRecord
from nas.pareto import IncrementalFront, compute_front
from nas.samplers import AskTellSampler
from nas.spec import CampaignSpec
from nas.storage.repository import CampaignStore
from search_spaces import SearchSpace

Tell = Callable[[TrialRecord], None]


class CampaignView:
    def __init__(
        self, store: CampaignStore, campaign_id: int, spec: CampaignSpec, space: SearchSpace
    ) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._spec = spec
        self.sampler = AskTellSampler(spec, space)
        self._front = IncrementalFront(spec.objectives, [])
        self.n_created = 0
        self.n_finished = 0
        self._last_number = -1
        self._mine: set[int] = set()  # trial ids this controller runs (their results come here)
        self._watched: set[int] = set()  # unfinished trials of others, to learn their results
        self._saw_others = False

    def load(self) -> None:
        stored = self._store.trials(self._campaign_id)
        self.sampler.replay(stored)
        self._front = IncrementalFront(self._spec.objectives, stored)
        # Counted once here, then kept in memory: no COUNT(*) per trial as campaigns grow.
        self.n_created = len(stored)
        self.n_finished = sum(t.state.is_finished for t in stored)
        self._last_number = max((t.number for t in stored), default=-1)
        self._watched = {t.id for t in stored if not t.state.is_finished}

    def sync(self, tell: Tell) -> None:
        """Learn the trials the other controllers created or finished since the last sync."""
        news = self._store.trials_news(self._campaign_id, self._last_number, self._watched)
        for trial in news:
            self._last_number = max(self._last_number, trial.number)
            self.n_created = max(self.n_created, trial.number + 1)
            if trial.id in self._mine:
                continue
            self._saw_others = True
            if not trial.state.is_finished:
                self.sampler.mark_seen(trial.config)
                self._watched.add(trial.id)
                continue
            self._watched.discard(trial.id)
            self.sampler.mark_seen(trial.config)
            tell(trial)
            self.add_to_front(trial)
            self.n_finished += 1

    def mine(self, trial: TrialRecord) -> None:
        self._mine.add(trial.id)
        self._watched.discard(trial.id)

    def lost(self, trial_id: int) -> None:
        """Another controller took over this trial: watch it to learn its result."""
        self._mine.discard(trial_id)
        self._watched.add(trial_id)
        self._saw_others = True

    def add_to_front(self, trial: TrialRecord) -> None:
        update = self._front.add(trial)
        self._store.replace_front(
            self._campaign_id, update.trial_ids, update.hypervolume, update.n_complete
        )

    def finish(self) -> None:
        """With other controllers about, rewrite the front from every stored trial.

        Each controller stores the front it knows after each result; two writing in turn could
        leave one's view last. Every controller ends with this recomputation, after its last
        write, so the last front stored is the exact one.
        """
        if not self._saw_others:
            return
        stored = self._store.trials(self._campaign_id)
        exact = compute_front(stored, self._spec.objectives)
        self._store.replace_front(
            self._campaign_id, list(exact.trial_ids), exact.hypervolume, exact.n_complete
        )
