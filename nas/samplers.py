"""Optuna samplers driven through ask/tell, rebuilt from the project's own storage.

The SQL schema is the system of record: at start (and on resume) the finished trials are replayed
into an in-memory Optuna study, which is fast (DESIGN.md: 0.5 ms per trial in memory vs 33 ms on
Optuna's RDB storage) and keeps the sampler free of state that only one process knows.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from nas.domain import TrialRecord, TrialState
from nas.spec import CampaignSpec
from search_spaces import Categorical, Config, SearchSpace
from search_spaces.macs import config_macs

optuna.logging.set_verbosity(optuna.logging.WARNING)
log = logging.getLogger(__name__)

_MAX_DUPLICATE_ASKS = 25
_MAX_RANDOM_DRAWS = 5000
_MAX_SCREENED_ASKS = 4
# The sampler models at most the last HISTORY_WINDOW finished trials (and its study is rebuilt
# from them when it reaches twice that): TPE's and NSGA-II's cost per ask grows with the trials
# they see, and 100k trials made each ask take seconds. Every config ever run stays "seen".
HISTORY_WINDOW = 1000


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    out: dict[str, BaseDistribution] = {}
    for p in space.params:
        if isinstance(p, Categorical):
            out[p.name] = CategoricalDistribution(p.choices)
        else:
            out[p.name] = IntDistribution(p.low, p.high, step=p.step)
    return out


def make_optuna_sampler(spec: CampaignSpec) -> optuna.samplers.BaseSampler:
    """Constraint values travel on the trials (Optuna 5's `set_constraint`), not a callback."""
    s = spec.sampler
    if s.kind == "random":
        return optuna.samplers.RandomSampler(seed=s.seed)
    if s.kind == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=s.population_size, seed=s.seed)
    return optuna.samplers.TPESampler(
        seed=s.seed,
        n_startup_trials=s.startup_trials,
        constant_liar=True,  # trials run in parallel: treat running ones as bad so asks spread out
    )


# What the sampler keeps of a finished trial: config, state, objectives, metrics.
_Result = tuple[Config, TrialState, dict[str, float] | None, dict[str, float]]


class AskTellSampler:
    """Proposes configs for a campaign; told the objectives of every finished trial."""

    def __init__(
        self, spec: CampaignSpec, space: SearchSpace, history_window: int = HISTORY_WINDOW
    ) -> None:
        self._spec = spec
        self._space = space
        self._fixed = dict(spec.fixed)
        self._dists = {k: d for k, d in distributions(space).items() if k not in self._fixed}
        self._optuna_sampler = make_optuna_sampler(spec)
        self._study = self._new_study()
        self._window = history_window
        self._recent: deque[_Result] = deque(maxlen=history_window)
        self._study_size = 0  # trials in the in-memory study, asked or added
        self._open: dict[str, list[optuna.trial.Trial]] = {}  # config hash -> asked trials
        self._seen: set[str] = set()
        self._rng = np.random.default_rng(spec.sampler.seed)

    def _new_study(self) -> optuna.Study:
        return optuna.create_study(
            directions=[
                StudyDirection[o.resolved_direction.upper()] for o in self._spec.objectives
            ],
            sampler=self._optuna_sampler,
        )

    def replay(self, trials: Sequence[TrialRecord]) -> None:
        """Teach the study the stored trials: all configs as seen, the last finished modelled."""
        finished: deque[TrialRecord] = deque(maxlen=self._window)
        for t in trials:
            self._seen.add(t.config_hash)
            if t.state.is_finished:
                finished.append(t)
        for t in finished:
            self._remember((t.config, t.state, t.objectives, t.metrics))

    def _remember(self, result: _Result, told: bool = False) -> None:
        """Keep ``result`` in the window; add it to the study unless it was told there."""
        self._recent.append(result)
        if not told:
            self._study.add_trial(self._frozen(*result))
            self._study_size += 1
        if self._study_size > 2 * self._window:
            # Rebuild from the window, so the sampler's cost per ask stays bounded.
            self._study = self._new_study()
            self._study.add_trials([self._frozen(*result) for result in self._recent])
            self._study_size = len(self._recent)

    def _values(self, objectives: dict[str, float] | None) -> list[float] | None:
        if not objectives:
            return None
        values = [objectives.get(o.metric) for o in self._spec.objectives]
        if any(v is None or not np.isfinite(v) for v in values):
            return None
        return [float(v) for v in values if v is not None]

    def _constraint_values(self, metrics: dict[str, float]) -> dict[str, float]:
        """Optuna's convention: <= 0 is satisfied. A metric never reported violates its bound."""
        return {
            f"{i}:{c.metric}": c.violation(metrics[c.metric]) if c.metric in metrics else 1e300
            for i, c in enumerate(self._spec.constraints)
        }

    def _frozen(
        self,
        config: Config,
        state: TrialState,
        objectives: dict[str, float] | None,
        metrics: dict[str, float],
    ) -> FrozenTrial:
        values = self._values(objectives) if state == TrialState.COMPLETE else None
        return optuna.trial.create_trial(
            params={k: config[k] for k in self._dists},
            distributions=self._dists,
            values=values,
            state=OptunaState.COMPLETE if values is not None else OptunaState.FAIL,
            constraints=self._constraint_values(metrics) if values is not None else None,
        )

    def ask(self) -> Config | None:
        """A config not yet in the campaign, or None when the space seems exhausted."""
        screened_out = 0
        for _ in range(_MAX_DUPLICATE_ASKS):
            trial = self._study.ask(self._dists)
            self._study_size += 1
            config = self._space.validate({**trial.params, **self._fixed})
            key = self._space.hash(config)
            admitted = self._admitted(config)
            if key not in self._seen and admitted:
                self._seen.add(key)
                self._open.setdefault(key, []).append(trial)
                return config
            # A duplicate, or outside the MACs band: tell it as failed so the sampler moves on.
            self._study.tell(trial, state=OptunaState.FAIL)
            screened_out += not admitted
            if screened_out >= _MAX_SCREENED_ASKS:
                break  # a narrow band: rejection sampling finds in-band configs faster
        return self._random_unseen()

    def _admitted(self, config: Config) -> bool:
        """Inside the spec's MACs-per-pixel band (counted analytically, nothing is built)."""
        macs = config_macs(self._space, config)
        return self._spec.screen.admits(macs.encoder / 1e3, macs.decoder / 1e3)

    def _random_unseen(self) -> Config | None:
        for _ in range(_MAX_RANDOM_DRAWS):
            config = {**self._space.sample(self._rng), **self._fixed}
            key = self._space.hash(config)
            if key not in self._seen and self._admitted(config):
                self._seen.add(key)
                return config
        log.warning(
            "no unseen config inside the MACs band in %d random draws: the space looks exhausted",
            _MAX_RANDOM_DRAWS,
        )
        return None

    def tell(
        self,
        config: Config,
        state: TrialState,
        objectives: dict[str, float] | None,
        metrics: dict[str, float],
    ) -> None:
        key = self._space.hash(config)
        asked = self._open.get(key)
        result: _Result = (config, state, objectives, metrics)
        if not asked:
            # Not asked by this process (resumed, or drawn at random): record it as history.
            self._remember(result)
            return
        trial = asked.pop()
        if trial.study is not self._study:  # asked before a rebuild: tell it as history
            self._remember(result)
            return
        values = self._values(objectives) if state == TrialState.COMPLETE else None
        if values is None:
            self._study.tell(trial, state=OptunaState.FAIL)
        else:
            for name, violation in self._constraint_values(metrics).items():
                trial.set_constraint(name, violation)
            self._study.tell(trial, values)
        self._remember(result, told=True)

    def mark_seen(self, config: Config) -> None:
        """A config another controller runs: never propose it here."""
        self._seen.add(self._space.hash(config))

    def forget(self, config: Config) -> None:
        """A trial was never run (e.g. interrupted before submission): free its config."""
        self._seen.discard(self._space.hash(config))
