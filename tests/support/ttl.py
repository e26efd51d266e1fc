"""The TTL policies firestore.indexes.json declares, as (collection, field)."""

from __future__ import annotations

import json
from pathlib import Path

INDEXES = Path(__file__).resolve().parents[2] / "firestore.indexes.json"


def ttl_policies() -> set[tuple[str, str]]:
    overrides = json.loads(INDEXES.read_text())["fieldOverrides"]
    return {(o["collectionGroup"], o["fieldPath"]) for o in overrides if o.get("ttl") is True}
