"""What the daily Santé publique France export carries once replays are pending (spec §4: "the next send to
Santé publique France then contains that data").

The export writes one file per establishment, named by FINESS and day, with the establishment's current passages
of a span of days and DATEDEBUT/DATEFIN set to that span. A pending replay therefore joins its establishment's
entry: alone when no file of that establishment was integrated in the export's window (the file then carries
exactly the replayed period), or widened to cover both when one was (the days in between are held and resent
as they are: "annule et remplace" makes that harmless downstream).
"""

from __future__ import annotations

from collections.abc import Sequence

from relais_rpu_concentrator.outbound.ports import ChangedEstablishment
from relais_rpu_concentrator.replay.model import ReplayRequest


def with_replays(
    changed: Sequence[ChangedEstablishment], pending: Sequence[ReplayRequest]
) -> list[ChangedEstablishment]:
    """`changed` (establishments with files integrated in the export's window) plus every pending replay's
    FINESS × period, one entry per FINESS, in FINESS order."""
    by_finess = {c.finess: c for c in changed}
    for request in pending:
        p = request.period
        known = by_finess.get(p.finess)
        by_finess[p.finess] = (
            ChangedEstablishment(p.finess, p.first_day, p.last_day)
            if known is None
            else ChangedEstablishment(
                p.finess,
                min(known.first_day, p.first_day),
                max(known.last_day, p.last_day),
                known.trace_parents,
            )
        )
    return [by_finess[finess] for finess in sorted(by_finess)]
