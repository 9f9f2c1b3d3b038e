from __future__ import annotations

import math

import pytest

from nas.domain import CampaignStatus
from nas.errors import DuplicateError, InvalidValueError, NotFoundError
from nas.storage import CampaignStore


def test_create_then_get_by_id_and_name_and_list(store: CampaignStore) -> None:
    spec = {"space": "hyperprior", "objectives": ["bpp", "decoder_ms"], "lambda": [0.0130, 0.05]}
    first = store.create_campaign("first", spec)
    second = store.create_campaign("second", {"space": "pico"})

    assert first.name == "first" and first.spec == spec
    assert first.status is CampaignStatus.CREATED
    assert store.campaign(first.id) == first
    assert store.campaign("second") == second
    assert [c.name for c in store.campaigns()] == ["first", "second"]


def test_duplicate_name_is_refused_and_named(store: CampaignStore) -> None:
    store.create_campaign("kodak", {})
    with pytest.raises(DuplicateError, match="a campaign named 'kodak' already exists"):
        store.create_campaign("kodak", {"other": True})
    assert len(store.campaigns()) == 1
    # The failed insert did not poison the store.
    assert store.create_campaign("kodak-2", {}).name == "kodak-2"


def test_not_found_errors_name_the_campaign(store: CampaignStore) -> None:
    with pytest.raises(NotFoundError, match="campaign 'nope' not found"):
        store.campaign("nope")
    with pytest.raises(NotFoundError, match="campaign 42 not found"):
        store.campaign(42)
    with pytest.raises(NotFoundError, match="campaign 42 not found"):
        store.trials(42)
    with pytest.raises(NotFoundError, match="campaign 42 not found"):
        store.create_trial(42, {}, "h")


def test_status_changes_are_stored(store: CampaignStore) -> None:
    campaign = store.create_campaign("c", {})
    store.set_campaign_status(campaign.id, CampaignStatus.RUNNING)
    assert store.campaign(campaign.id).status is CampaignStatus.RUNNING
    with pytest.raises(NotFoundError, match="campaign 7 not found"):
        store.set_campaign_status(7, CampaignStatus.FINISHED)


def test_spec_must_be_strict_json(store: CampaignStore) -> None:
    with pytest.raises(InvalidValueError, match="spec of campaign 'c' is not strict JSON"):
        store.create_campaign("c", {"lambda": math.nan})
    with pytest.raises(InvalidValueError, match="campaign name"):
        store.create_campaign("  ", {})
    # Tuples come back as lists: what is returned is what a later read returns.
    created = store.create_campaign("c", {"tile": (504, 512)})
    assert created.spec == {"tile": [504, 512]} == store.campaign("c").spec
