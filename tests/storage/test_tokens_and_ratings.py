"""Tokens stored hashed and revocable; pairwise ratings; fitted scores written as a metric."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from nas.domain import CampaignRecord
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.ratings import Outcome, PairwiseRating, bradley_terry, trial_contestant
from nas.storage import CampaignStore
from nas.storage.access import Role, secret_digest
from tests.storage.test_trials import complete


def test_tokens_are_stored_as_digests_and_authenticate_until_revoked(
    store: CampaignStore,
) -> None:
    record, secret = store.create_token("ci", Role.ADMIN)
    assert secret.startswith("cnas_") and len(secret) > 40
    assert store.authenticate(secret) == record
    assert store.authenticate(secret + "x") is None
    assert store.authenticate("") is None
    engine = create_engine(store.url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT secret_sha256 FROM api_tokens")).scalar()
    finally:
        engine.dispose()
    assert stored == secret_digest(secret) and secret not in str(stored)
    store.revoke_token(record.id)
    store.revoke_token(record.id)
    assert store.authenticate(secret) is None
    assert not store.tokens()[0].active
    with pytest.raises(NotFoundError, match="token 999"):
        store.revoke_token(999)


def test_unknown_role_is_named(store: CampaignStore) -> None:
    with pytest.raises(InvalidValueError, match="unknown role 'root'"):
        store.create_token("x", "root")


def _two_complete_trials(store: CampaignStore, campaign: CampaignRecord) -> list[int]:
    ids = []
    for i in range(2):
        trial = store.create_trial(campaign.id, {"i": i}, f"h{i}")
        store.start_trial(trial.id)
        complete(store, trial.id)
        ids.append(trial.id)
    return ids


def test_ratings_round_trip_per_rater(store: CampaignStore, campaign: CampaignRecord) -> None:
    a, b = _two_complete_trials(store, campaign)
    first = PairwiseRating(
        campaign.id, "alice", "kodim01", trial_contestant(a), "jpeg", Outcome.FIRST, 0.4, 0.41
    )
    second = PairwiseRating(
        campaign.id, "bob", "kodim01", trial_contestant(b), trial_contestant(a), Outcome.SAME
    )
    store.add_rating(first)
    store.add_rating(second)
    assert store.ratings(campaign.id) == [first, second]
    assert store.ratings(campaign.id, rater="bob") == [second]


def test_ratings_of_unknown_or_unfinished_trials_are_refused(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    a, _ = _two_complete_trials(store, campaign)
    pending = store.create_trial(campaign.id, {"p": 1}, "hp")
    rating = PairwiseRating(campaign.id, "r", "img", trial_contestant(a), "avif", Outcome.SECOND)
    for first, error, match in [
        ("trial:99999", NotFoundError, "not found in campaign"),
        (trial_contestant(pending.id), StateConflictError, "not complete"),
        ("webp", InvalidValueError, "unknown contestant 'webp'"),
        ("avif", InvalidValueError, "compares two contestants"),
    ]:
        with pytest.raises(error, match=match):
            store.add_rating(PairwiseRating(campaign.id, "r", "img", first, "avif", Outcome.SAME))
    store.add_rating(rating)
    assert len(store.ratings(campaign.id)) == 1


def test_bradley_terry_orders_by_wins_and_ties_pull_together() -> None:
    def rate(first: str, second: str, outcome: Outcome) -> PairwiseRating:
        return PairwiseRating(1, "r", "img", first, second, outcome)

    ratings = [rate("trial:1", "jpeg", Outcome.FIRST)] * 4 + [
        rate("trial:2", "jpeg", Outcome.SECOND),
        rate("trial:1", "trial:2", Outcome.FIRST),
        rate("avif", "jpeg", Outcome.SAME),
    ]
    scores = {s.contestant: s for s in bradley_terry(ratings)}
    assert bradley_terry(ratings)[0].contestant == "trial:1"
    assert scores["trial:1"].strength > scores["jpeg"].strength > scores["trial:2"].strength
    assert (scores["trial:1"].wins, scores["trial:1"].losses, scores["jpeg"].ties) == (5, 0, 1)
    assert scores["trial:1"].trial_id == 1 and scores["jpeg"].trial_id is None
    assert abs(sum(s.strength for s in scores.values())) < 1e-6
    gap = scores["trial:1"].elo - scores["jpeg"].elo
    assert gap == pytest.approx(
        400 / 2.302585092994046 * (scores["trial:1"].strength - scores["jpeg"].strength)
    )
    assert bradley_terry([]) == []


def test_scores_written_as_a_metric_replace_the_previous_ones(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    a, b = _two_complete_trials(store, campaign)
    store.set_trial_metric(campaign.id, "rating_score", {a: 1.5, b: -1.5})
    store.set_trial_metric(campaign.id, "rating_score", {b: 0.25})
    metrics = {t.id: t.metrics for t in store.trials(campaign.id)}
    assert "rating_score" not in metrics[a] and metrics[b]["rating_score"] == 0.25
    assert metrics[a]["bpp"] == 0.412
    with pytest.raises(InvalidValueError, match="NaN"):
        store.set_trial_metric(campaign.id, "rating_score", {a: float("nan")})
    pending = store.create_trial(campaign.id, {"p": 1}, "hp")
    with pytest.raises(StateConflictError, match="not complete"):
        store.set_trial_metric(campaign.id, "rating_score", {pending.id: 1.0})
    assert store.trial(b).metrics["rating_score"] == 0.25
