from __future__ import annotations

import math

import pytest

from nas.domain import CampaignRecord, HypervolumePoint
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.storage import CampaignStore
from tests.storage.test_trials import complete


def completed_trials(store: CampaignStore, campaign_id: int, count: int) -> list[int]:
    ids = []
    for i in range(count):
        trial = store.create_trial(campaign_id, {"i": i}, f"h{i}")
        store.start_trial(trial.id)
        complete(store, trial.id, metrics={"bpp": 0.1 * (i + 1)}, artifacts=[])
        ids.append(trial.id)
    return ids


def test_front_is_replaced_and_hypervolume_history_appended(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = completed_trials(store, campaign.id, 4)
    assert store.front(campaign.id) == [] and store.hypervolume_history(campaign.id) == []

    store.replace_front(campaign.id, [ids[2], ids[0]], hypervolume=0.25, n_complete=3)
    front = store.front(campaign.id)
    assert [t.id for t in front] == [ids[0], ids[2]]  # ordered by number
    assert front[1].metrics == {"bpp": pytest.approx(0.3)}

    store.replace_front(campaign.id, [ids[3]], hypervolume=0.5, n_complete=4)
    assert [t.id for t in store.front(campaign.id)] == [ids[3]]
    assert store.hypervolume_history(campaign.id) == [
        HypervolumePoint(n_complete=3, hypervolume=0.25),
        HypervolumePoint(n_complete=4, hypervolume=0.5),
    ]


def test_fronts_of_campaigns_are_separate(store: CampaignStore, campaign: CampaignRecord) -> None:
    other = store.create_campaign("other", {})
    mine, theirs = completed_trials(store, campaign.id, 1), completed_trials(store, other.id, 1)
    store.replace_front(campaign.id, mine, 1.0, 1)
    store.replace_front(other.id, theirs, 2.0, 1)
    assert [t.id for t in store.front(campaign.id)] == mine
    assert [t.id for t in store.front(other.id)] == theirs
    with pytest.raises(NotFoundError, match=rf"trials \[{theirs[0]}\] not found in campaign"):
        store.replace_front(campaign.id, theirs, 1.0, 1)


def test_invalid_fronts_are_refused_and_change_nothing(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = completed_trials(store, campaign.id, 2)
    store.replace_front(campaign.id, ids, 1.0, 2)
    pending = store.create_trial(campaign.id, {}, "p")

    with pytest.raises(StateConflictError, match=rf"trials \[{pending.id}\] .* not complete"):
        store.replace_front(campaign.id, [ids[0], pending.id], 2.0, 3)
    with pytest.raises(InvalidValueError, match="hypervolume is nan"):
        store.replace_front(campaign.id, ids, math.nan, 2)
    with pytest.raises(InvalidValueError, match=rf"trial ids \[{ids[0]}\] given more than once"):
        store.replace_front(campaign.id, [ids[0], ids[0]], 1.0, 2)
    with pytest.raises(NotFoundError, match="campaign 404 not found"):
        store.replace_front(404, [], 1.0, 0)

    assert [t.id for t in store.front(campaign.id)] == ids
    assert store.hypervolume_history(campaign.id) == [HypervolumePoint(2, 1.0)]
