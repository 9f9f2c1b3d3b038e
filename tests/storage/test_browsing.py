"""Dashboard queries: paging sorted by any metric, scatter points per device, reconstructions."""

from __future__ import annotations

import dataclasses

import pytest

from nas.domain import ArtifactPayload, CampaignRecord, TrialState
from nas.errors import InvalidValueError, NotFoundError
from nas.storage import CampaignStore
from tests.storage.test_trials import DECODER_CPU, complete

PHONE = dataclasses.replace(DECODER_CPU, device="iphone-16-pro", estimate_12mp_ms=90.0, p50_ms=2.0)
PHONE_FP16 = dataclasses.replace(PHONE, precision="fp16", estimate_12mp_ms=70.0, p50_ms=1.5)


def _fill(store: CampaignStore, campaign: CampaignRecord) -> list[int]:
    """Trials 0..4 complete with bpp 0.5, 0.3, 0.4, 0.1, 0.2 (0 and 3 infeasible), 5 pending,
    6 failed."""
    ids = []
    for number, bpp in enumerate([0.5, 0.3, 0.4, 0.1, 0.2]):
        trial = store.create_trial(campaign.id, {"n": number}, f"h{number}")
        store.start_trial(trial.id)
        measurements = [DECODER_CPU, PHONE, PHONE_FP16] if number % 2 == 0 else [DECODER_CPU]
        complete(
            store,
            trial.id,
            metrics={"bpp": bpp, "decode_ms_12mp": 1000.0 + number, "decode_ms_tile": 9.0},
            measurements=measurements,
            feasible=number not in (0, 3),
            artifacts=[ArtifactPayload("reconstruction", "kodim01.png", bytes([number]) * 10)],
        )
        ids.append(trial.id)
    ids.append(store.create_trial(campaign.id, {"n": 5}, "h5").id)
    failed = store.create_trial(campaign.id, {"n": 6}, "h6")
    store.start_trial(failed.id)
    store.fail_trial(failed.id, "boom")
    ids.append(failed.id)
    store.replace_front(campaign.id, [ids[1], ids[4]], 1.0, 5)
    return ids


def test_pages_sorted_by_a_metric_put_trials_without_it_last(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    _fill(store, campaign)
    page = store.trial_page(campaign.id, sort="bpp", limit=3)
    assert page.total == 7
    assert [t.number for t in page.trials] == [3, 4, 1]
    assert page.trials[0].metrics["bpp"] == 0.1
    rest = store.trial_page(campaign.id, sort="bpp", offset=3, limit=10)
    assert [t.number for t in rest.trials] == [2, 0, 5, 6]
    down = store.trial_page(campaign.id, sort="bpp", descending=True, limit=10)
    assert [t.number for t in down.trials] == [0, 2, 1, 4, 3, 5, 6]


def test_pages_filter_by_state_and_feasibility(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    _fill(store, campaign)
    by_number = store.trial_page(campaign.id, descending=True, limit=2)
    assert [t.number for t in by_number.trials] == [6, 5]
    complete_page = store.trial_page(campaign.id, state=TrialState.COMPLETE, limit=10)
    assert complete_page.total == 5
    infeasible = store.trial_page(campaign.id, feasible=False, limit=10)
    assert [t.number for t in infeasible.trials] == [0, 3]
    assert store.trial_page(campaign.id, state=TrialState.FAILED).trials[0].error == "boom"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset")],
)
def test_bad_page_bounds_are_named(
    store: CampaignStore, campaign: CampaignRecord, kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message):
        store.trial_page(campaign.id, **kwargs)  # type: ignore[arg-type]


def test_points_carry_feasibility_and_front_membership(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = _fill(store, campaign)
    points = store.trial_points(campaign.id, "decode_ms_12mp", "bpp")
    assert [p.number for p in points] == [0, 1, 2, 3, 4]
    assert [p.feasible for p in points] == [False, True, True, False, True]
    assert [p.on_front for p in points] == [False, True, False, False, True]
    assert points[2].x == 1002.0 and points[2].y == 0.4 and points[2].trial_id == ids[2]
    assert store.trial_points(campaign.id, "bpp", "no_such_metric") == []


def test_device_latencies_come_from_the_fastest_decoder_measurement_there(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = _fill(store, campaign)
    assert store.devices(campaign.id) == ["iphone-16-pro", "x86-2core"]
    on_phone = store.trial_points(campaign.id, "decode_ms_12mp", "bpp", device="iphone-16-pro")
    assert [(p.number, p.x) for p in on_phone] == [(0, 70.0), (2, 70.0), (4, 70.0)]
    latencies = store.device_latencies(campaign.id, "iphone-16-pro")
    assert latencies[ids[0]] == {"decode_ms_12mp": 70.0, "decode_ms_tile": 1.5}
    assert ids[1] not in latencies


def test_reconstructions_and_artifacts_by_digest(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = _fill(store, campaign)
    found = store.reconstructions(campaign.id)
    assert [(r.trial_id, r.image) for r in found] == [(i, "kodim01") for i in ids[:5]]
    # per-image metrics of complete() are keyed "kodim01.png", not "kodim01": no bpp then
    assert all(r.bpp is None for r in found)
    record = store.artifact_by_digest(found[0].sha256)
    assert (record.kind, record.filename) == ("reconstruction", "kodim01.png")
    with pytest.raises(NotFoundError, match="no artifact with digest"):
        store.artifact_by_digest("0" * 64)
    with pytest.raises(InvalidValueError, match="invalid artifact digest"):
        store.artifact_by_digest("../etc/passwd")
