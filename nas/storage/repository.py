"""CampaignStore: the system of record of codecnas (campaigns, trials, results, Pareto front).

Every method is one transaction in its own session (no ORM object escapes; callers get the plain
records of ``nas.domain``). State changes of a trial are conditional UPDATEs ("... WHERE state IN
(allowed states)"), so two controllers racing for the same trial cannot both win, on SQLite or
Postgres. Trial numbers start at 0 in each campaign, as in Optuna. NaN or infinite metrics,
objectives and latencies are rejected (InvalidValueError naming the metric; see validation.py).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import func, select, update

from nas.domain import (
    ArtifactPayload,
    CampaignRecord,
    CampaignStatus,
    JsonDict,
    Measurement,
    TrialRecord,
    TrialState,
)
from nas.errors import DuplicateError, InvalidValueError, NotFoundError
from nas.storage import guards, records, validation
from nas.storage.artifacts import ArtifactStore
from nas.storage.bench_queue import BenchQueue
from nas.storage.browsing import TrialBrowsing
from nas.storage.database import Database
from nas.storage.front_writes import FrontWrites
from nas.storage.funnel_store import FunnelStore
from nas.storage.leases import LeaseStore
from nas.storage.migrate import upgrade_to_head
from nas.storage.queries import CampaignQueries
from nas.storage.rating_store import RatingStore
from nas.storage.retrying import retry_transient
from nas.storage.schema import (
    ArtifactRow,
    Campaign,
    ImageMetric,
    Trial,
    TrialMetric,
    utc_now,
)
from nas.storage.tokens import TokenStore

_UNFINISHED = (TrialState.PENDING, TrialState.RUNNING)


class CampaignStore(
    CampaignQueries,
    TrialBrowsing,
    TokenStore,
    RatingStore,
    BenchQueue,
    FunnelStore,
    LeaseStore,
    FrontWrites,
):
    """Opens (and creates or upgrades, with Alembic) the database at ``url``.

    The read queries, the dashboard's paging queries, tokens and ratings live in the mixins.

    ``artifact_root`` is the folder of the content-addressed artifact files (checkpoints, ONNX
    graphs); the database holds their digests.
    """

    def __init__(self, url: str, artifact_root: Path) -> None:
        self._db = Database(url)
        try:
            upgrade_to_head(self._db)
            self._artifacts = ArtifactStore(artifact_root)
        except BaseException:
            self._db.dispose()
            raise

    @property
    def url(self) -> str:
        return self._db.url

    @property
    def display_url(self) -> str:
        """The URL with its password masked."""
        return self._db.display_url

    @property
    def artifact_root(self) -> Path:
        return self._artifacts.root

    def close(self) -> None:
        self._db.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---------------------------------------------------------------- campaigns

    def create_campaign(self, name: str, spec: JsonDict) -> CampaignRecord:
        name = validation.name(name, "campaign name", 200)
        spec = validation.json_document(spec, f"spec of campaign {name!r}")
        now = utc_now()
        with self._db.session(
            f"create campaign {name!r}",
            write=True,
            on_integrity_error=lambda _: DuplicateError(
                f"a campaign named {name!r} already exists"
            ),
        ) as session:
            row = Campaign(
                name=name,
                spec=spec,
                status=CampaignStatus.CREATED,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return records.campaign_record(row)

    @retry_transient
    def set_campaign_status(self, campaign_id: int, status: CampaignStatus) -> None:
        status = CampaignStatus(status)
        with self._db.session(f"set status of campaign {campaign_id}", write=True) as session:
            statement = (
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(status=status, updated_at=utc_now())
            )
            if guards.rowcount(session, statement) == 0:
                raise NotFoundError(f"campaign {campaign_id!r} not found")

    # ---------------------------------------------------------------- trial life cycle

    def create_trial(
        self,
        campaign_id: int,
        config: JsonDict,
        config_hash: str,
        sampler_state: JsonDict | None = None,
        *,
        rung: int = 0,
        parent_trial_id: int | None = None,
    ) -> TrialRecord:
        """A new PENDING trial numbered one past the campaign's last trial.

        ``rung`` is its training budget level (multi-fidelity); a trial promoted from a lower
        rung names that trial as ``parent_trial_id``.
        """
        if isinstance(rung, bool) or not isinstance(rung, int) or rung < 0:
            raise InvalidValueError(f"rung must be an integer >= 0, got {rung!r}")
        config = validation.json_document(config, "trial config")
        config_hash = validation.name(config_hash, "config hash", 128)
        if sampler_state is not None:
            sampler_state = validation.json_document(sampler_state, "sampler state")
        with self._db.session(f"create a trial in campaign {campaign_id}", write=True) as session:
            # Locks the campaign row on Postgres, so concurrent creators number in turn.
            guards.require_campaign(session, campaign_id, lock=True)
            last = session.scalar(
                select(func.max(Trial.number)).where(Trial.campaign_id == campaign_id)
            )
            row = Trial(
                campaign_id=campaign_id,
                number=0 if last is None else last + 1,
                config=config,
                config_hash=config_hash,
                state=TrialState.PENDING,
                attempts=0,
                sampler_state=sampler_state,
                created_at=utc_now(),
                rung=rung,
                parent_trial_id=parent_trial_id,
            )
            session.add(row)
            session.flush()
            return records.trial_record(row, {})

    def start_trial(self, trial_id: int, worker: str | None = None) -> TrialRecord:
        """PENDING -> RUNNING. StateConflictError if it is running already or finished."""
        with self._db.session(f"start trial {trial_id}", write=True) as session:
            values = {
                Trial.state: TrialState.RUNNING,
                Trial.attempts: Trial.attempts + 1,
                Trial.started_at: utc_now(),
                Trial.worker: worker,
            }
            guards.transition(session, trial_id, (TrialState.PENDING,), values, "start")
            return guards.one_trial(session, trial_id)

    @retry_transient
    def complete_trial(
        self,
        trial_id: int,
        *,
        metrics: dict[str, float],
        per_image: dict[str, dict[str, float]],
        measurements: list[Measurement],
        artifacts: list[ArtifactPayload],
        objectives: dict[str, float],
        feasible: bool,
        worker: str | None = None,
        lease_owner: str | None = None,
        initialisation: JsonDict | None = None,
    ) -> TrialRecord:
        """Record a trial's results, all or nothing. The trial must be PENDING or RUNNING.

        ``initialisation`` says what its weights started from (TrialOutcome.initialisation).

        With ``lease_owner`` the trial must be leased by it (StateConflictError otherwise), and a
        call repeated after it succeeded returns the stored trial (see retrying.py).

        Artifact files are written first (a file nobody references is harmless; a row pointing
        at a missing file is not), then every row and the COMPLETE state in one transaction.
        """
        metrics = validation.metrics(metrics, "metric")
        per_image = validation.per_image(per_image)
        measurements = [validation.measurement(m, i) for i, m in enumerate(measurements)]
        artifacts = validation.artifact_payloads(artifacts)
        objectives = validation.metrics(objectives, "objective")
        if not isinstance(feasible, bool):
            raise InvalidValueError(f"feasible must be a bool, got {feasible!r}")
        if initialisation is not None:
            initialisation = validation.json_document(initialisation, "trial initialisation")
        # Cheap early refusal, so a finished trial does not leave files behind; the conditional
        # update below is what actually guarantees it. A repeated call that had succeeded
        # (see retrying.py) gets the stored trial back.
        earlier = self._require_unfinished(trial_id, "complete", lease_owner)
        if earlier is not None:
            return earlier
        stored = [(payload, *self._artifacts.put(bytes(payload.data))) for payload in artifacts]

        with self._db.session(f"complete trial {trial_id}", write=True) as session:
            now = utc_now()
            values: dict[Any, Any] = {
                Trial.state: TrialState.COMPLETE,
                Trial.finished_at: now,
                Trial.objectives: objectives,
                Trial.feasible: feasible,
                Trial.error: None,
                Trial.lease_expires_at: None,
            }
            if worker is not None:
                values[Trial.worker] = worker
            if initialisation is not None:
                values[Trial.initialisation] = initialisation
            guards.transition(session, trial_id, _UNFINISHED, values, "complete", lease_owner)
            session.add_all(
                TrialMetric(trial_id=trial_id, name=name, value=value)
                for name, value in metrics.items()
            )
            session.add_all(
                ImageMetric(trial_id=trial_id, image=image, name=name, value=value)
                for image, values_of_image in per_image.items()
                for name, value in values_of_image.items()
            )
            session.add_all(records.measurement_row(trial_id, m, now) for m in measurements)
            session.add_all(
                ArtifactRow(
                    trial_id=trial_id,
                    kind=payload.kind,
                    filename=payload.filename,
                    sha256=digest,
                    size=size,
                )
                for payload, digest, size in stored
            )
            session.flush()
            return guards.one_trial(session, trial_id)

    @retry_transient
    def fail_trial(
        self,
        trial_id: int,
        error: str,
        worker: str | None = None,
        lease_owner: str | None = None,
    ) -> TrialRecord:
        """PENDING or RUNNING -> FAILED, keeping the error text (``lease_owner``: as complete)."""
        if not isinstance(error, str):
            raise InvalidValueError(f"error of trial {trial_id} must be a string, got {error!r}")
        with self._db.session(f"fail trial {trial_id}", write=True) as session:
            earlier = guards.done_before(session, trial_id, TrialState.FAILED, lease_owner)
            if earlier is not None:
                return earlier
            values: dict[Any, Any] = {
                Trial.state: TrialState.FAILED,
                Trial.error: error,
                Trial.finished_at: utc_now(),
                Trial.lease_expires_at: None,
            }
            if worker is not None:
                values[Trial.worker] = worker
            guards.transition(session, trial_id, _UNFINISHED, values, "fail", lease_owner)
            return guards.one_trial(session, trial_id)

    @retry_transient
    def requeue_trial(self, trial_id: int, lease_owner: str | None = None) -> TrialRecord:
        """RUNNING -> PENDING when its worker was lost: it runs again, its attempts kept."""
        with self._db.session(f"requeue trial {trial_id}", write=True) as session:
            values: dict[Any, Any] = {
                Trial.state: TrialState.PENDING,
                Trial.worker: None,
                Trial.lease_owner: None,
                Trial.lease_expires_at: None,
            }
            guards.transition(
                session, trial_id, (TrialState.RUNNING,), values, "requeue", lease_owner
            )
            return guards.one_trial(session, trial_id)

    # ---------------------------------------------------------------- helpers

    def _require_unfinished(
        self, trial_id: int, action: str, lease_owner: str | None = None
    ) -> TrialRecord | None:
        """None if the trial is unfinished; the trial if ``lease_owner`` completed it; or raise."""
        with self._db.session(f"check trial {trial_id}") as session:
            row = session.execute(
                select(Trial.state, Trial.lease_owner).where(Trial.id == trial_id)
            ).one_or_none()
            if row is not None and not TrialState(row[0]).is_finished:
                return None
            if row is not None and lease_owner is not None and row[1] == lease_owner:
                if row[0] == TrialState.COMPLETE:
                    return guards.one_trial(session, trial_id)
            raise guards.state_conflict(session, trial_id, action, lease_owner)
