"""The blind rating flow: a pair at similar bpp, judgements per rater, scores as a metric."""

from __future__ import annotations

import math

from fastapi.testclient import TestClient

from nas.ratings import contestant_trial_id
from nas.storage import CampaignStore
from tests.dashboard.conftest import Shared, Tokens
from tests.dashboard.populate import Populated


def test_pairs_show_one_image_twice_at_similar_bpp(shared: Shared) -> None:
    cid = shared.populated.campaign.id
    bpp = {
        t.id: shared.store.per_image_metrics(t.id)["chelsea"]["bpp"]
        for t in shared.populated.trials
        if t.metrics
    }
    seen = set()
    for seed in range(8):
        pair = shared.client.get(f"/api/campaigns/{cid}/ratings/pair", params={"seed": seed}).json()
        assert pair["image"] == "chelsea"
        first, second = pair["first"], pair["second"]
        assert first["contestant"] != second["contestant"]
        assert abs(math.log(first["bpp"] / second["bpp"])) <= math.log(1.25) + 0.2
        for side in (first, second):
            trial_id = contestant_trial_id(side["contestant"])
            if trial_id is not None:
                assert side["bpp"] == bpp[trial_id]
                assert side["url"] == f"/api/trials/{trial_id}/images/chelsea/reconstruction.png"
            seen.add(side["contestant"].split(":")[0])
        # The page shows the two pictures; both must be there.
        assert shared.client.get(first["url"]).status_code == 200
    assert {"trial", "jpeg", "avif"} <= seen


def test_ratings_are_stored_per_rater_and_scores_become_a_metric(
    client: TestClient, store: CampaignStore, tokens: Tokens, watched: Populated
) -> None:
    cid = watched.campaign.id
    # Rated trials that met the campaign's constraints: best-for-budget never recommends others.
    first, second = [t for t in watched.trials if t.feasible][:2]
    a, b = first.id, second.id
    url = f"/api/campaigns/{cid}/ratings"

    def rate(role: str, first: str, second: str, outcome: str) -> None:
        body = {"image": "chelsea", "first": first, "second": second, "outcome": outcome}
        response = client.post(url, json=body, headers=tokens.header(role))
        assert response.status_code == 201, response.text

    for _ in range(3):
        rate("viewer", f"trial:{a}", "jpeg", "first")
    rate("admin", f"trial:{b}", f"trial:{a}", "second")
    rate("admin", "avif", f"trial:{b}", "same")
    assert [r.rater for r in store.ratings(cid)] == ["vic"] * 3 + ["ada"] * 2
    scores = client.get(f"{url}/scores").json()
    assert scores["ratings"] == 5 and scores["raters"] == 2
    assert scores["scores"][0]["contestant"] == f"trial:{a}"
    assert scores["scores"][0]["trial_number"] == first.number
    only_vic = client.get(f"{url}/scores", params={"rater": "vic"}).json()
    assert only_vic["ratings"] == 3

    bad = client.post(
        url,
        json={"image": "chelsea", "first": "trial:999999", "second": "jpeg", "outcome": "same"},
        headers=tokens.header("viewer"),
    )
    assert bad.status_code == 404 and "not found in campaign" in bad.json()["detail"]

    applied = client.post(f"{url}/apply", headers=tokens.header("admin")).json()
    assert applied == {"metric": "rating_score", "trials": 2}
    elo = {s["trial_id"]: s["elo"] for s in scores["scores"] if s["trial_id"]}
    assert store.trial(a).metrics["rating_score"] == elo[a]
    best = client.get(
        f"/api/campaigns/{cid}/best", params={"decode_ms": 1e9, "quality": "rating_score"}
    ).json()
    assert best["trial"]["id"] == a and best["quality_metric"] == "rating_score"
