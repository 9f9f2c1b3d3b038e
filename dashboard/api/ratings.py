"""Blind pairwise ratings: a pair to judge, judgements stored per rater, Bradley–Terry scores."""

from __future__ import annotations

import math
import random

from fastapi import APIRouter, Depends, Query

from dashboard.api.params import CampaignId
from dashboard.auth import admin, rater, reader
from dashboard.deps import app_images, app_store
from dashboard.images import ImageService
from dashboard.schemas.common import ERROR_RESPONSES
from dashboard.schemas.ratings import (
    AppliedOut,
    ContestantImage,
    RatingIn,
    RatingPairOut,
    RatingStoredOut,
    ScoreOut,
    ScoresOut,
)
from dashboard.views import campaign_spec
from nas.errors import NotFoundError
from nas.ratings import (
    ANCHOR_CONTESTANTS,
    RATING_METRIC,
    PairwiseRating,
    bradley_terry,
    trial_contestant,
)
from nas.storage import CampaignStore
from nas.storage.access import TokenRecord
from nas.storage.browsing import Reconstruction

router = APIRouter(prefix="/api/campaigns", tags=["ratings"], responses=ERROR_RESPONSES)
# Two reconstructions are "at similar bpp" when their rates differ by at most this factor.
SIMILAR_BPP_FACTOR = 1.25


def _trial_image(rec: Reconstruction) -> ContestantImage:
    return ContestantImage(
        contestant=trial_contestant(rec.trial_id),
        url=f"/api/trials/{rec.trial_id}/images/{rec.image}/reconstruction.png",
        bpp=rec.bpp,
    )


@router.get("/{campaign_id}/ratings/pair", response_model=RatingPairOut)
def rating_pair(
    campaign_id: CampaignId,
    seed: int | None = Query(None, ge=0, le=2**63 - 1, description="repeatable choice"),
    _reader: TokenRecord | None = Depends(reader),
    store: CampaignStore = Depends(app_store),
    images: ImageService = Depends(app_images),
) -> RatingPairOut:
    """Two reconstructions of one eval image at similar bpp, in random order: two trials, or
    a trial and JPEG or AVIF encoded at the trial's bpp."""
    campaign = store.campaign(campaign_id)
    chooser = random.Random(seed)
    candidates = [r for r in store.reconstructions(campaign_id) if r.bpp is not None]
    if not candidates:
        raise NotFoundError(f"campaign {campaign.name!r} has no reconstruction with a bpp to rate")
    anchor = chooser.choice(candidates)
    assert anchor.bpp is not None
    rivals: list[ContestantImage] = [
        _trial_image(r)
        for r in candidates
        if r.image == anchor.image
        and r.trial_id != anchor.trial_id
        and r.bpp is not None
        and abs(math.log(r.bpp / anchor.bpp)) <= math.log(SIMILAR_BPP_FACTOR)
    ]
    spec = campaign_spec(campaign)
    if spec is not None:
        original = images.original(spec.data.eval, anchor.image)
        for codec in ANCHOR_CONTESTANTS:
            point, _ = images.anchor_at_bpp(original, codec, anchor.bpp)
            url = f"/api/trials/{anchor.trial_id}/images/{anchor.image}/{codec}.png"
            rivals.append(ContestantImage(contestant=codec, url=url, bpp=point.bpp))
    if not rivals:
        raise NotFoundError(
            f"no reconstruction of {anchor.image!r} is within a factor {SIMILAR_BPP_FACTOR} of "
            f"trial id {anchor.trial_id}'s bpp, and the campaign's eval images are unknown"
        )
    pair = [_trial_image(anchor), chooser.choice(rivals)]
    chooser.shuffle(pair)
    return RatingPairOut(image=anchor.image, first=pair[0], second=pair[1])


@router.post("/{campaign_id}/ratings", response_model=RatingStoredOut, status_code=201)
def add_rating(
    campaign_id: CampaignId,
    body: RatingIn,
    token: TokenRecord = Depends(rater),
    store: CampaignStore = Depends(app_store),
) -> RatingStoredOut:
    """Store one judgement under the name of the rater's token."""
    rating = PairwiseRating(
        campaign_id=campaign_id,
        rater=token.name,
        image=body.image,
        first=body.first,
        second=body.second,
        outcome=body.outcome,
        first_bpp=body.first_bpp,
        second_bpp=body.second_bpp,
    )
    return RatingStoredOut(id=store.add_rating(rating), rater=token.name)


@router.get("/{campaign_id}/ratings/scores", response_model=ScoresOut)
def rating_scores(
    campaign_id: CampaignId,
    rater_name: str | None = Query(None, alias="rater", min_length=1, max_length=200),
    _reader: TokenRecord | None = Depends(reader),
    store: CampaignStore = Depends(app_store),
) -> ScoresOut:
    """Bradley–Terry scores of every rated contestant, best first."""
    ratings = store.ratings(campaign_id, rater=rater_name)
    numbers = {t.id: t.number for t in store.trials(campaign_id)} if ratings else {}
    scores = bradley_terry(ratings)
    return ScoresOut(
        ratings=len(ratings),
        raters=len({r.rater for r in ratings}),
        scores=[
            ScoreOut(
                contestant=s.contestant,
                trial_id=s.trial_id,
                trial_number=None if s.trial_id is None else numbers.get(s.trial_id),
                strength=s.strength,
                elo=s.elo,
                wins=s.wins,
                losses=s.losses,
                ties=s.ties,
                games=s.games,
            )
            for s in scores
        ],
    )


@router.post("/{campaign_id}/ratings/apply", response_model=AppliedOut)
def apply_scores(
    campaign_id: CampaignId,
    _token: TokenRecord = Depends(admin),
    store: CampaignStore = Depends(app_store),
) -> AppliedOut:
    """Record each rated trial's Elo-scale score as its metric "rating_score", so that the
    final pick (best-for-budget with quality=rating_score, sorting) can use human judgement."""
    scores = bradley_terry(store.ratings(campaign_id))
    values = {s.trial_id: s.elo for s in scores if s.trial_id is not None}
    store.set_trial_metric(campaign_id, RATING_METRIC, values)
    return AppliedOut(metric=RATING_METRIC, trials=len(values))
