"""The viewer's pictures: original, reconstruction, and JPEG/AVIF at the trial's bpp (cached)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from codec.images import load_images
from tests.dashboard.conftest import Shared
from tests.dashboard.populate import EVAL_SOURCE


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_original_and_reconstruction_are_served_as_stored(shared: Shared) -> None:
    trial = shared.populated.trials[3]
    original = load_images(EVAL_SOURCE)[0].pixels
    base = f"/api/trials/{trial.id}/images/chelsea"
    served = shared.client.get(f"{base}/original.png")
    assert served.headers["content-type"] == "image/png"
    assert np.array_equal(_pixels(served.content), original)
    [stored] = [a for a in shared.store.artifacts(trial.id) if a.kind == "reconstruction"]
    reconstruction = shared.client.get(f"{base}/reconstruction.png")
    assert reconstruction.content == shared.store.artifact_path(stored.sha256).read_bytes()
    missing = shared.client.get(f"/api/trials/{trial.id}/images/astronaut/original.png")
    assert missing.status_code == 404 and "'astronaut' is not in the eval source" in missing.text


def test_anchors_are_encoded_at_the_trial_s_bpp_and_cached(shared: Shared) -> None:
    trial = shared.populated.trials[5]
    bpp = shared.store.per_image_metrics(trial.id)["chelsea"]["bpp"]
    body = shared.client.get(f"/api/trials/{trial.id}/images/chelsea").json()
    assert body["trial_bpp"] == bpp and body["reconstruction_url"].endswith("reconstruction.png")
    anchors = {a["codec"]: a for a in body["anchors"]}
    assert set(anchors) == {"jpeg", "avif"}
    original = load_images(EVAL_SOURCE)[0].pixels
    for codec, anchor in anchors.items():
        # The closest quality setting: within 15% of the trial's bpp for these codecs here.
        assert abs(anchor["bpp"] - bpp) / bpp < 0.15, (codec, anchor, bpp)
        png = shared.client.get(anchor["url"])
        decoded = _pixels(png.content)
        assert decoded.shape == original.shape and not np.array_equal(decoded, original)
        error = np.mean((decoded.astype(float) - original.astype(float)) ** 2)
        assert abs(10 * np.log10(255**2 / error) - anchor["psnr"]) < 1e-6
    cache = shared.client.app.state.images.cache_dir / "same-bpp"  # type: ignore[attr-defined]
    assert (
        len(list(cache.glob("*-jpeg-*.png"))) >= 1 and len(list(cache.glob("*-avif-*.json"))) >= 1
    )
    again = shared.client.get(f"/api/trials/{trial.id}/images/chelsea").json()
    assert again["anchors"] == body["anchors"]


def test_rate_quality_puts_the_trial_against_anchor_curves(shared: Shared) -> None:
    trial = shared.populated.trials[2]
    body = shared.client.get(f"/api/trials/{trial.id}/rate-quality").json()
    assert body["trial"] == {
        "bpp": trial.metrics["bpp"],
        "psnr": trial.metrics["psnr"],
        "quality": None,
    }
    assert len(body["front"]) == len(shared.store.front(trial.campaign_id))
    for codec in ("jpeg", "avif"):
        curve = body[codec]
        assert len(curve) >= 5
        rates = [p["bpp"] for p in curve]
        assert rates == sorted(rates)  # more bits at higher quality settings
        assert curve[-1]["psnr"] > curve[0]["psnr"]
    [image] = body["images"]
    assert image["image"] == "chelsea" and image["jpeg"] == body["jpeg"]  # one image: mean = it
