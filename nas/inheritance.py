"""Which trained weights a new trial starts from (the spec's `training.init`).

- `nearest` (the default): the completed trial of this campaign, with stored weights, whose
  config is closest (search_spaces.inheritance.distance; ties go to the latest trial). While no
  trial has weights yet, the `training.init_fallback` model folder if one is set, else scratch.
- `scratch`: every trial starts from its fresh initialisation.
- a model folder (config.json + model.pt, as `codecnas best --export` writes; a relative path is
  taken from the controller's working directory): every trial starts from it.

The controller reads the weights (artifact store or folder) and sends them with the job, so a
worker on another host needs neither; the worker copies what fits (search_spaces.inheritance)
and reports what it took, which is stored with the trial.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from nas.domain import InitSource, StoredCheckpoint
from nas.errors import SpecError
from nas.spec import INIT_NEAREST, INIT_SCRATCH, TrainingSpec
from nas.storage.queries import CampaignQueries
from search_spaces import SearchSpace
from search_spaces.inheritance import nearest
from search_spaces.model_dir import WEIGHTS_FILE, ModelDirError, load_codec, read_config


class InitChooser:
    def __init__(
        self, store: CampaignQueries, campaign_id: int, space: SearchSpace, training: TrainingSpec
    ) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._space = space
        self._setting = training.init
        folder = training.init if training.init not in (INIT_NEAREST, INIT_SCRATCH) else None
        folder = folder or training.init_fallback
        # Read once, up front: a bad folder fails the launch, not every trial.
        self._folder = model_dir_source(folder) if folder is not None else None

    def source_for(self, config: dict[str, object]) -> InitSource | None:
        """Where a trial of `config` starts; None: from scratch."""
        if self._setting == INIT_SCRATCH:
            return None
        if self._setting == INIT_NEAREST:
            trained = self._nearest_trial(config)
            if trained is not None:
                return trained
        return self._folder

    def _nearest_trial(self, config: dict[str, object]) -> InitSource | None:
        stored = self._store.checkpoints(self._campaign_id)
        candidates = [(checkpoint, checkpoint.config) for checkpoint in stored]
        for distance, checkpoint in nearest(self._space, dict(config), candidates):
            weights = self._weights(checkpoint)
            if weights is not None:
                return trial_source(self._space.name, checkpoint, weights, distance)
        return None

    def _weights(self, checkpoint: StoredCheckpoint) -> bytes | None:
        try:
            return self._store.artifact_path(checkpoint.sha256).read_bytes()
        except (OSError, ValueError):  # a file gone from the store: try the next nearest
            return None


def trial_source(
    space: str, checkpoint: StoredCheckpoint, weights: bytes, distance: float
) -> InitSource:
    described = {
        "kind": "trial",
        "trial_number": checkpoint.trial_number,
        "config_hash": checkpoint.config_hash,
        "distance": round(distance, 6),
    }
    return InitSource(space, checkpoint.config, weights, described)


@lru_cache(maxsize=4)
def model_dir_source(path: str) -> InitSource:
    """The codec in a model folder as an init source; SpecError naming what is wrong."""
    folder = Path(path).expanduser()
    try:
        load_codec(folder)  # the weights fit the config: checked once here, not in every trial
        doc = read_config(folder)
        weights = (folder / WEIGHTS_FILE).read_bytes()
    except ModelDirError as exc:
        raise SpecError(f"training.init: {exc}") from None
    except OSError as exc:
        raise SpecError(f"training.init: {folder}: cannot read {WEIGHTS_FILE}: {exc}") from None
    described = {
        "kind": "model_dir",
        "path": str(folder.resolve()),
        "config_hash": str(doc["config_hash"]),
    }
    config = json.loads(json.dumps(doc["config"]))
    return InitSource(str(doc["space"]), config, weights, described)


def describe_initialisation(initialisation: dict[str, object] | None) -> str | None:
    """One line for people: 'initialised from trial 3 (a1b2c3d4…), 87% of parameters',
    'initialised from model folder reference-codec (…), 92% of parameters', 'from scratch';
    None when nothing was recorded (a trial not finished, or from before inheritance)."""
    if not initialisation:
        return None
    kind = initialisation.get("kind")
    if kind == "scratch":
        return "from scratch"
    digest = str(initialisation.get("config_hash", ""))[:8]
    if kind == "trial":
        source = f"trial {initialisation.get('trial_number')} ({digest}…)"
    elif kind == "model_dir":
        source = f"model folder {Path(str(initialisation.get('path', '?'))).name} ({digest}…)"
    else:
        return f"initialised from {kind}"
    fraction = initialisation.get("fraction")
    share = f", {float(fraction):.0%} of parameters" if isinstance(fraction, int | float) else ""
    return f"initialised from {source}{share}"
