"""A database written by the first schema version (frozen in data/) upgrades with nothing lost.

schema_v1.sqlite was made by the code of the first release (schema revision 0001): one campaign
with a complete trial (metrics, per-image metrics, a measurement, on the front), a failed trial and
a running one.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from nas.domain import TrialState
from nas.storage import CampaignStore
from nas.storage.migrate import head_revision

FROZEN = Path(__file__).parent / "data" / "schema_v1.sqlite"


def test_first_schema_version_upgrades_to_head_with_every_row_kept(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    shutil.copyfile(FROZEN, db)
    with sqlite3.connect(db) as raw:
        assert raw.execute("select version_num from alembic_version").fetchone() == ("0001",)

    store = CampaignStore(f"sqlite:///{db}", tmp_path / "artifacts")
    try:
        with sqlite3.connect(db) as raw:
            assert raw.execute("select version_num from alembic_version").fetchone() == (
                head_revision(),
            )
        campaign = store.campaign("frozen-v1")
        trials = {t.config_hash: t for t in store.trials(campaign.id)}
        assert [trials[h].state for h in ("h1", "h2", "h3")] == [
            TrialState.COMPLETE,
            TrialState.FAILED,
            TrialState.RUNNING,
        ]
        done = trials["h1"]
        assert done.metrics["decode_ms_12mp"] == 900.0
        assert store.per_image_metrics(done.id) == {"chelsea": {"bpp": 0.5, "psnr": 30.1}}
        (measurement,) = store.measurements(done.id)
        assert (measurement.backend, measurement.p50_ms, measurement.estimate_12mp_ms) == (
            "onnxruntime",
            10.0,
            480.0,
        )
        assert trials["h2"].error == "diverged: NaN loss at step 3"
        assert [t.id for t in store.front(campaign.id)] == [done.id]
        assert store.hypervolume_history(campaign.id)[-1].hypervolume == 0.7
        # The upgraded database is fully usable: resume semantics and new writes.
        assert [t.config_hash for t in store.requeue_unfinished(campaign.id)] == ["h3"]
        new = store.create_trial(campaign.id, {"channels": 96}, "h4")
        assert new.number == 3
    finally:
        store.close()
