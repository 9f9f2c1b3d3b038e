"""The funnel's run loop: each stage in turn, stored as it finishes, skipped when already stored.

screen and predict hand a large batch to each other in memory; when a campaign restarts between
them, the (seeded) screen is recomputed rather than stored: a million rows would be silly.
"""

from __future__ import annotations

from collections.abc import Callable

from nas.domain import CampaignStatus, TrialRecord
from nas.executor import Executor
from nas.funnel.domain import STAGES, FunnelCandidate, FunnelStageRecord, JsonDict
from nas.funnel.protocols import LatencyModel, Measurer
from nas.funnel.rung_runner import RungRunner
from nas.funnel.screening import measure_stage, predict_stage, screen_stage
from nas.funnel.training import RunTrials, full_stage, proxy_stage
from nas.spec import CampaignSpec, parse_spec
from nas.storage.repository import CampaignStore
from search_spaces import get_space

Log = Callable[[str], None]
TrialHandler = Callable[[TrialRecord], None]


class FunnelRunner:
    def __init__(
        self,
        store: CampaignStore,
        campaign_id: int,
        *,
        latency_model: LatencyModel,
        measurer: Measurer,
        executor: Executor,
        log: Log | None = None,
        on_trial: TrialHandler | None = None,
    ) -> None:
        self.store = store
        self.campaign = store.campaign(campaign_id)
        self.spec: CampaignSpec = parse_spec(
            self.campaign.spec, source=f"campaign {self.campaign.name!r}"
        )
        if self.spec.funnel is None:
            raise ValueError(f"campaign {self.campaign.name!r} is not a funnel campaign")
        self.funnel = self.spec.funnel
        self.space = get_space(self.spec.space)
        self.model = latency_model
        self.measurer = measurer
        self.executor = executor
        self._log = log or (lambda message: None)
        self._on_trial = on_trial

    def run(self) -> CampaignStatus:
        """Run the stages not yet stored. Ctrl-C leaves the campaign resumable."""
        cid = self.campaign.id
        self.store.set_campaign_status(cid, CampaignStatus.RUNNING)
        try:
            stored = {s.stage: s for s in self.store.funnel_stages(cid)}
            pool, bootstrap = self._predicted(stored)
            survivors = self._measured(stored, pool, bootstrap)
            promoted = self._proxied(stored, survivors)
            if "full" not in stored:
                self._finish(*full_stage(self.store, cid, self.spec, promoted, self._trials()))
        except BaseException:
            self.store.set_campaign_status(cid, CampaignStatus.INTERRUPTED)
            self.executor.shutdown()
            raise
        self.store.set_campaign_status(cid, CampaignStatus.FINISHED)
        return CampaignStatus.FINISHED

    def _predicted(
        self, stored: dict[str, FunnelStageRecord]
    ) -> tuple[list[FunnelCandidate], list[JsonDict]]:
        if "predict" in stored:
            bootstrap: list[JsonDict] = stored["predict"].details.get("bootstrap", [])
            return self._reached("predict"), bootstrap
        self._log(f"screen: sampling {self.funnel.configs:,} configs")
        screened, record = screen_stage(self.space, self.spec)
        if "screen" not in stored:
            self._finish(record, [])
        outcome = predict_stage(
            self.space, self.spec, screened, self.model, self.measurer, log=self._log
        )
        self._finish(outcome.record, outcome.pool)
        return outcome.pool, outcome.bootstrap

    def _measured(
        self,
        stored: dict[str, FunnelStageRecord],
        pool: list[FunnelCandidate],
        bootstrap: list[JsonDict],
    ) -> list[FunnelCandidate]:
        if "measure" in stored:
            return self._reached("measure")
        outcome = measure_stage(
            self.space, self.spec, pool, bootstrap, self.model, self.measurer, log=self._log
        )
        self._finish(outcome.record, outcome.measured)
        return outcome.survivors

    def _proxied(
        self, stored: dict[str, FunnelStageRecord], survivors: list[FunnelCandidate]
    ) -> list[FunnelCandidate]:
        if "proxy" in stored:
            return self._reached("proxy")
        record, trained, promoted = proxy_stage(self.spec, survivors, self._trials())
        self._finish(record, trained)
        return promoted

    def _trials(self) -> RunTrials:
        runner = RungRunner(
            self.store, self.campaign.id, self.spec, self.executor, on_finished=self._on_trial
        )
        return runner.run

    def _reached(self, stage: str) -> list[FunnelCandidate]:
        """Candidates that passed `stage` (those that went further included)."""
        later = STAGES[STAGES.index(stage) :]
        return self.store.funnel_candidates(self.campaign.id, stages=later)

    def _finish(self, record: FunnelStageRecord, candidates: list[FunnelCandidate]) -> None:
        self.store.record_funnel_stage(self.campaign.id, record, candidates)
        self._log(
            f"{record.stage}: {record.n_in:,} in, {record.n_out:,} out, {record.seconds:.1f} s"
        )
