"""Reading results through the API: pages of trials, one trial, front, hypervolume, best."""

from __future__ import annotations

import re

import pytest

from nas.domain import TrialState
from nas.selection import best_in_campaign
from tests.dashboard.conftest import Shared


def test_campaign_status_counts_the_funnel(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    body = shared.client.get(f"/api/campaigns/{cid}/status").json()
    complete = [t for t in shared.populated.trials if t.state == TrialState.COMPLETE]
    counts = body["counts"]
    assert counts["sampled"] == 13 and counts["complete"] == 12 and counts["failed"] == 1
    assert counts["feasible"] == sum(bool(t.feasible) for t in complete)
    assert counts["front"] == len(shared.store.front(cid))
    assert body["hypervolume"] == shared.store.hypervolume_history(cid)[-1].hypervolume
    assert [o["metric"] for o in body["objectives"]] == ["quality_ratio_vs_jpeg", "decode_ms_12mp"]
    detail = shared.client.get(f"/api/campaigns/{cid}").json()
    assert detail["devices"] == ["iphone-16-pro", "x86-2core"]
    assert detail["eval_source"] == "skimage:chelsea"
    listed = shared.client.get("/api/campaigns").json()
    assert [c["name"] for c in listed] == ["watch"]


def test_trials_are_paged_sorted_by_any_objective_and_filtered(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    url = f"/api/campaigns/{cid}/trials"
    page = shared.client.get(url, params={"sort": "decode_ms_12mp", "order": "desc", "limit": 5})
    body = page.json()
    latencies = [t["metrics"]["decode_ms_12mp"] for t in body["items"]]
    everything = sorted(
        (t.metrics["decode_ms_12mp"] for t in shared.populated.trials if t.metrics), reverse=True
    )
    assert body["total"] == 13 and latencies == everything[:5]
    second = shared.client.get(
        url, params={"sort": "decode_ms_12mp", "order": "desc", "limit": 5, "offset": 10}
    ).json()
    assert [t["state"] for t in second["items"]] == ["complete", "complete", "failed"]
    failed = shared.client.get(url, params={"state": "failed"}).json()
    assert failed["total"] == 1 and "diverged" in failed["items"][0]["error"]
    infeasible = shared.client.get(url, params={"feasible": "false"}).json()
    assert all(t["metrics"]["decode_ms_12mp"] > 60_000 for t in infeasible["items"])
    assert infeasible["total"] == sum(t.feasible is False for t in shared.populated.trials)


def test_one_trial_has_config_per_image_metrics_measurements_and_artifacts(
    shared: Shared,
) -> None:
    trial = shared.populated.trials[0]
    body = shared.client.get(f"/api/trials/{trial.id}").json()
    assert body["trial"]["config"] == trial.config and body["campaign_name"] == "watch"
    assert set(body["per_image"]) == {"chelsea"} and "bpp" in body["per_image"]["chelsea"]
    assert {m["device"] for m in body["measurements"]} == {"x86-2core", "iphone-16-pro"}
    assert {a["kind"] for a in body["artifacts"]} == {"config", "reconstruction"}
    assert body["images"] == ["chelsea"]
    for artifact in body["artifacts"]:
        assert artifact["url"] == f"/api/artifacts/{artifact['sha256']}"


def test_front_has_every_complete_point_and_a_non_dominated_feasible_front(
    shared: Shared,
) -> None:
    cid = shared.populated.campaign.id
    body = shared.client.get(f"/api/campaigns/{cid}/front").json()
    complete = [t for t in shared.populated.trials if t.state == TrialState.COMPLETE]
    assert body["trial_ids"] == [t.id for t in complete]
    assert body["feasible"] == [bool(t.feasible) for t in complete]
    stored = {t.id for t in shared.store.front(cid)}
    assert [i for i, on in zip(body["trial_ids"], body["stored_front"], strict=True) if on] == [
        t.id for t in complete if t.id in stored
    ]
    # With the campaign's own two objectives the 2-D front is the stored front.
    assert set(body["front_ids"]) == stored
    points = dict(zip(body["trial_ids"], zip(body["xs"], body["ys"], strict=True), strict=True))
    for front_id in body["front_ids"]:
        fx, fy = points[front_id]
        for other, feasible in zip(body["trial_ids"], body["feasible"], strict=True):
            ox, oy = points[other]
            assert not (feasible and ox <= fx and oy <= fy and (ox, oy) != (fx, fy))


def test_front_on_a_device_uses_that_device_s_latencies(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    stored = shared.client.get(f"/api/campaigns/{cid}/front").json()
    phone = shared.client.get(
        f"/api/campaigns/{cid}/front", params={"device": "iphone-16-pro", "y": "psnr"}
    ).json()
    assert phone["y_direction"] == "maximize" and phone["device"] == "iphone-16-pro"
    assert phone["xs"] == pytest.approx([x / 40 for x in stored["xs"]])


def test_hypervolume_history_is_thinned_keeping_the_last_point(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    history = shared.store.hypervolume_history(cid)
    full = shared.client.get(f"/api/campaigns/{cid}/hypervolume").json()
    assert full["total"] == len(history) == 12
    thin = shared.client.get(f"/api/campaigns/{cid}/hypervolume?max_points=4").json()
    assert thin["total"] == 12 and len(thin["points"]) == 4
    assert thin["points"][-1]["hypervolume"] == history[-1].hypervolume
    assert thin["points"][0]["n_complete"] == history[0].n_complete


@pytest.mark.parametrize("budget", [5_000.0, 9_000.0, 30_000.0, 60_000.0, 1e6])
def test_best_for_budget_answers_as_the_cli_does(shared: Shared, budget: float) -> None:
    cid = shared.populated.campaign.id
    body = shared.client.get(f"/api/campaigns/{cid}/best", params={"decode_ms": budget}).json()
    expected = best_in_campaign(shared.store, cid, budget)  # what `codecnas best` prints
    assert body["fits"] == expected.fits and body["message"] == expected.message
    assert expected.trial is not None
    assert body["trial"]["id"] == expected.trial.id
    assert body["objectives"] == expected.trial.objectives
    assert {m["device"] for m in body["measurements"]} == {"x86-2core", "iphone-16-pro"}
    assert [a["kind"] for a in body["artifacts"]] == ["config"]


def test_best_never_recommends_a_trial_that_breaks_a_constraint(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    complete = [t for t in shared.populated.trials if t.metrics]
    best_ratio = min(complete, key=lambda t: t.metrics["quality_ratio_vs_jpeg"])
    assert best_ratio.feasible is False  # the populated campaign has such a trap
    body = shared.client.get(f"/api/campaigns/{cid}/best", params={"decode_ms": 1e6}).json()
    assert body["fits"] and body["trial"]["feasible"] is True
    front = shared.client.get(f"/api/campaigns/{cid}/front").json()
    assert front["best_from_front"] is True


def test_best_when_nothing_fits_names_the_nearest_trial(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    body = shared.client.get(f"/api/campaigns/{cid}/best", params={"decode_ms": 1}).json()
    fastest = min(
        (t for t in shared.populated.trials if t.metrics), key=lambda t: t.metrics["decode_ms_12mp"]
    )
    assert body["fits"] is False and body["trial"]["id"] == fastest.id
    assert re.search(
        r"no trial meets decode_ms_12mp <= 1; the closest is trial \d+", body["message"]
    )


def test_best_on_a_device_uses_its_measurements(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    on_phone = shared.client.get(
        f"/api/campaigns/{cid}/best", params={"decode_ms": 1_000, "device": "iphone-16-pro"}
    ).json()
    stored = shared.client.get(f"/api/campaigns/{cid}/best", params={"decode_ms": 40_000}).json()
    # The phone is 40 times faster in this campaign: 1 s there is 40 s on the CPU.
    assert on_phone["trial"]["id"] == stored["trial"]["id"] and on_phone["fits"]
    assert on_phone["trial"]["metrics"]["decode_ms_12mp"] == pytest.approx(
        stored["trial"]["metrics"]["decode_ms_12mp"] / 40
    )


def test_artifacts_download_by_content_hash_only(shared: Shared) -> None:
    trial = shared.populated.trials[0]
    [config] = [a for a in shared.store.artifacts(trial.id) if a.kind == "config"]
    response = shared.client.get(f"/api/artifacts/{config.sha256}")
    assert response.status_code == 200
    assert response.content == shared.store.artifact_path(config.sha256).read_bytes()
    assert 'filename="config.json"' in response.headers["content-disposition"]
    missing = shared.client.get(f"/api/artifacts/{'0' * 64}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert shared.client.get("/api/artifacts/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert shared.client.get("/api/artifacts/config.json").status_code == 422


def test_errors_are_json_naming_the_problem(shared: Shared) -> None:
    missing = shared.client.get("/api/campaigns/424242")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "campaign 424242 not found"}
    bad = shared.client.get(f"/api/campaigns/{shared.populated.campaign.id}/trials?limit=100000")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
    assert "query.limit" in bad.json()["detail"] and "100000" in bad.json()["detail"]
    no_trial = shared.client.get("/api/trials/987654").json()
    assert no_trial["detail"] == "trial 987654 not found"
