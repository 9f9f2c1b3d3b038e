"""Storage of blind pairwise ratings, and of the scores fitted from them as a trial metric."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from nas.domain import TrialState
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.ratings import Outcome, PairwiseRating, contestant_trial_id
from nas.storage import guards, validation
from nas.storage.database import Database
from nas.storage.schema import PairwiseRatingRow, Trial, TrialMetric, utc_now


def _optional_bpp(value: float | None, what: str) -> float | None:
    return None if value is None else validation.finite(value, what)


class RatingStore:
    """Rating methods of CampaignStore."""

    _db: Database

    def add_rating(self, rating: PairwiseRating) -> int:
        """Store one judgement; its trial contestants must be complete trials of the campaign."""
        if not isinstance(rating, PairwiseRating):
            raise InvalidValueError(f"rating must be a PairwiseRating, got {rating!r:.80}")
        rater = validation.name(rating.rater, "rater", 200)
        image = validation.name(rating.image, "image name", 500)
        outcome = Outcome(rating.outcome)
        if rating.first == rating.second:
            raise InvalidValueError(
                f"a rating compares two contestants, got {rating.first!r} twice"
            )
        trial_ids = [
            t for t in (contestant_trial_id(rating.first), contestant_trial_id(rating.second)) if t
        ]
        first_bpp = _optional_bpp(rating.first_bpp, "first_bpp")
        second_bpp = _optional_bpp(rating.second_bpp, "second_bpp")
        campaign_id = rating.campaign_id
        with self._db.session(f"store a rating in campaign {campaign_id}", write=True) as session:
            guards.require_campaign(session, campaign_id)
            found = dict(
                session.execute(
                    select(Trial.id, Trial.state).where(
                        Trial.campaign_id == campaign_id, Trial.id.in_(trial_ids)
                    )
                ).all()
            )
            missing = [t for t in trial_ids if t not in found]
            if missing:
                raise NotFoundError(f"trials {missing} not found in campaign {campaign_id}")
            unfinished = [t for t in trial_ids if found[t] != TrialState.COMPLETE]
            if unfinished:
                raise StateConflictError(f"trials {unfinished} are not complete: nothing to rate")
            row = PairwiseRatingRow(
                campaign_id=campaign_id,
                rater=rater,
                image=image,
                first=rating.first,
                second=rating.second,
                outcome=outcome,
                first_bpp=first_bpp,
                second_bpp=second_bpp,
                created_at=utc_now(),
            )
            session.add(row)
            session.flush()
            return row.id

    def ratings(self, campaign_id: int, rater: str | None = None) -> list[PairwiseRating]:
        """The campaign's ratings in the order given, optionally only one rater's."""
        with self._db.session(f"read ratings of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            query = select(PairwiseRatingRow).where(PairwiseRatingRow.campaign_id == campaign_id)
            if rater is not None:
                query = query.where(PairwiseRatingRow.rater == rater)
            rows = session.scalars(query.order_by(PairwiseRatingRow.id))
            return [
                PairwiseRating(
                    campaign_id=row.campaign_id,
                    rater=row.rater,
                    image=row.image,
                    first=row.first,
                    second=row.second,
                    outcome=Outcome(row.outcome),
                    first_bpp=row.first_bpp,
                    second_bpp=row.second_bpp,
                )
                for row in rows
            ]

    def set_trial_metric(self, campaign_id: int, name: str, values: Mapping[int, float]) -> None:
        """Make ``name`` the given value of each listed complete trial, and of no other trial.

        Used to record a score fitted later (a rating score) so that selection and sorting can
        use it like any measured metric.
        """
        name = validation.name(name, "metric name", 200)
        checked = {
            trial_id: validation.finite(value, f"metric {name!r} of trial {trial_id}")
            for trial_id, value in values.items()
        }
        with self._db.session(
            f"set metric {name!r} in campaign {campaign_id}", write=True
        ) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            states = dict(
                session.execute(
                    select(Trial.id, Trial.state).where(
                        Trial.campaign_id == campaign_id, Trial.id.in_(list(checked))
                    )
                ).all()
            )
            missing = [t for t in checked if t not in states]
            if missing:
                raise NotFoundError(f"trials {missing} not found in campaign {campaign_id}")
            unfinished = [t for t in checked if states[t] != TrialState.COMPLETE]
            if unfinished:
                raise StateConflictError(f"trials {unfinished} are not complete")
            of_campaign = select(Trial.id).where(Trial.campaign_id == campaign_id)
            session.execute(
                delete(TrialMetric)
                .where(TrialMetric.name == name, TrialMetric.trial_id.in_(of_campaign))
                .execution_options(synchronize_session=False)
            )
            session.add_all(
                TrialMetric(trial_id=trial_id, name=name, value=value)
                for trial_id, value in checked.items()
            )
