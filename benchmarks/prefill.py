"""Fill a campaign with N finished trials quickly (bulk inserts), for benchmarks at scale."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
from sqlalchemy import insert

from nas.domain import TrialState
from nas.storage.repository import CampaignStore
from nas.storage.schema import Trial, TrialMetric
from search_spaces import get_space

BATCH = 5000


def random_config(rng: random.Random, space_name: str = "basic") -> dict[str, Any]:
    space = get_space(space_name)
    return space.sample(np.random.default_rng(rng.getrandbits(32)))


def _spec(space: str, budget: int) -> dict[str, Any]:
    return {
        "name": "bench",
        "space": space,
        "objectives": [{"metric": "quality_ratio_vs_jpeg"}, {"metric": "decode_ms_12mp"}],
        "sampler": {"kind": "nsga2", "seed": 0, "population_size": 8},
        "budget": {"trials": budget, "parallel": 1},
        "training": {"steps": 1},
        "data": {"train": "skimage:coffee", "eval": "skimage:chelsea"},
    }


def prefill_campaign(store: CampaignStore, n: int, budget: int, space: str = "basic") -> int:
    """A campaign with `n` complete trials of random configs and objectives; returns its id."""
    campaign = store.create_campaign(f"bench-{n}", _spec(space, budget))
    rng = random.Random(n)
    sp = get_space(space)
    now = dt.datetime.now(dt.UTC)
    engine = store._db.engine  # bulk insert straight into the schema: minutes become seconds
    for start in range(0, n, BATCH):
        trials, metrics = [], []
        for number in range(start, min(n, start + BATCH)):
            config = random_config(rng, space)
            objectives = {
                "quality_ratio_vs_jpeg": rng.uniform(0.5, 3.0),
                "decode_ms_12mp": rng.uniform(50, 9e4),
            }
            trials.append(
                {
                    "campaign_id": campaign.id,
                    "number": number,
                    "config": config,
                    "config_hash": sp.hash(config),
                    "state": TrialState.COMPLETE,
                    "attempts": 1,
                    "objectives": objectives,
                    "feasible": True,
                    "created_at": now,
                    "started_at": now,
                    "finished_at": now,
                }
            )
        with engine.begin() as connection:
            ids = connection.execute(insert(Trial).returning(Trial.id), trials).scalars().all()
            for trial_id, row in zip(ids, trials, strict=True):
                metrics += [
                    {"trial_id": trial_id, "name": k, "value": v}
                    for k, v in row["objectives"].items()
                ]
            connection.execute(insert(TrialMetric), metrics)
    return campaign.id


def prefill_optuna_study(
    url: str,
    n: int,
    directions: list[str],
    dists: dict[str, Any],
    sampler: Any,
    space: str = "basic",
) -> Any:
    """An Optuna RDB study holding ``n`` complete trials, bulk-inserted into Optuna's own tables
    (``study.add_trials`` commits one trial at a time: ~10 minutes for 100k on SQLite)."""
    import optuna
    from optuna.storages._rdb import models
    from optuna.trial import TrialState as OptunaState

    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(storage=storage, directions=directions, sampler=sampler)
    rng = random.Random(n)
    now = dt.datetime.now()  # Optuna stores naive local times
    names = list(dists)
    with storage.engine.begin() as connection:
        for start in range(0, n, BATCH):
            numbers = range(start, min(n, start + BATCH))
            trials = [
                {
                    "number": i,
                    "study_id": study._study_id,
                    "state": OptunaState.COMPLETE,
                    "datetime_start": now,
                    "datetime_complete": now,
                }
                for i in numbers
            ]
            ids = (
                connection.execute(
                    insert(models.TrialModel).returning(models.TrialModel.trial_id), trials
                )
                .scalars()
                .all()
            )
            params, values = [], []
            for trial_id in ids:
                config = random_config(rng, space)
                for name in names:
                    dist = dists[name]
                    params.append(
                        {
                            "trial_id": trial_id,
                            "param_name": name,
                            "param_value": dist.to_internal_repr(config[name]),
                            "distribution_json": optuna.distributions.distribution_to_json(dist),
                        }
                    )
                for objective, value in enumerate((rng.uniform(0.5, 3), rng.uniform(50, 9e4))):
                    values.append(
                        {
                            "trial_id": trial_id,
                            "objective": objective,
                            "value": value,
                            "value_type": models.TrialValueModel.TrialValueType.FINITE,
                        }
                    )
            connection.execute(insert(models.TrialParamModel), params)
            connection.execute(insert(models.TrialValueModel), values)
    return study
