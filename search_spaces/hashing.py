"""Stable config hashes: the identity of a codec configuration across runs and machines."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal configs give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(space: str, config: dict[str, Any]) -> str:
    """sha256 hex of the space name and the config; key order and dict type do not matter."""
    payload = canonical_json({"space": space, "config": config})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def model_id(hash_hex: str) -> bytes:
    """The 16 bytes written into every bitstream to say which model made it."""
    return bytes.fromhex(hash_hex[:32])
