"""The manifest sent with every export: its files, their SHA-256 and the RPU counts per FINESS.

Deterministic (sorted keys, no clock) so that re-planning the same export gives the same bytes and the same SHA-256.
"""

from __future__ import annotations

import json
from collections import Counter

from relais_rpu_concentrator.outbound.model import Export

MANIFEST_MEDIA_TYPE = "application/json"


def manifest_name(export_id: str) -> str:
    return f"{export_id}.manifest.json"


def build_manifest(export: Export) -> bytes:
    totals: Counter[str] = Counter()
    files = []
    for f in export.files:
        totals.update(f.rpu_per_finess)
        files.append(
            {
                "name": f.name,
                "sha256": f.blob.sha256,
                "size": f.blob.size,
                "rpu": sum(f.rpu_per_finess.values()),
                "rpu_per_finess": dict(sorted(f.rpu_per_finess.items())),
            }
        )
    document = {
        "export_id": export.export_id,
        "files": files,
        "rpu_total": sum(totals.values()),
        "rpu_per_finess": dict(sorted(totals.items())),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
