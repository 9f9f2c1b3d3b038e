"""Optuna samplers driven through ask/tell, rebuilt from the project's own storage.

The SQL schema is the system of record: at start (and on resume) the finished trials are replayed
into an in-memory Optuna study, which is fast (DESIGN.md: 0.5 ms per trial in memory vs 33 ms on
Optuna's RDB storage) and keeps the sampler free of state that only one process knows.
"""

from __future__ import annotations

import logging
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


class AskTellSampler:
    """Proposes configs for a campaign; told the objectives of every finished trial."""

    def __init__(self, spec: CampaignSpec, space: SearchSpace) -> None:
        self._spec = spec
        self._space = space
        self._fixed = dict(spec.fixed)
        self._dists = {k: d for k, d in distributions(space).items() if k not in self._fixed}
        self._study = optuna.create_study(
            directions=[StudyDirection[o.resolved_direction.upper()] for o in spec.objectives],
            sampler=make_optuna_sampler(spec),
        )
        self._open: dict[str, list[optuna.trial.Trial]] = {}  # config hash -> asked trials
        self._seen: set[str] = set()
        self._rng = np.random.default_rng(spec.sampler.seed)

    def replay(self, trials: Sequence[TrialRecord]) -> None:
        """Teach the study every stored trial: finished ones with their results."""
        for t in trials:
            self._seen.add(t.config_hash)
            if t.state.is_finished:
                self._study.add_trial(self._frozen(t.config, t.state, t.objectives, t.metrics))

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
        if not asked:
            # Not asked by this process (resumed, or drawn at random): record it as history.
            self._study.add_trial(self._frozen(config, state, objectives, metrics))
            return
        trial = asked.pop()
        values = self._values(objectives) if state == TrialState.COMPLETE else None
        if values is None:
            self._study.tell(trial, state=OptunaState.FAIL)
            return
        for key, violation in self._constraint_values(metrics).items():
            trial.set_constraint(key, violation)
        self._study.tell(trial, values)

    def forget(self, config: Config) -> None:
        """A trial was never run (e.g. interrupted before submission): free its config."""
        self._seen.discard(self._space.hash(config))
