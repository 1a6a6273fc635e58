"""The anonymised monthly flow to ATIH (platform Syrius).

Anonymisation (the rule is public): no COMMUNE, CP replaced by the PMSI geographic code, NAISSANCE replaced by the
age in years at entry. Non-standard elements and unreadable raw values are dropped too: their content is unknown
and may identify the patient.

Syrius's exact file layout is not public. Everything that depends on it is `write_atih` and `_atih_items`: the
envelope below (OSCOUR envelope, `CODE_GEO` and `AGE` in place of CP and NAISSANCE) is our best reading and the
one place to change when ATIH publishes or confirms its layout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from relais_rpu.model import Passage, RpuHeader
from relais_rpu.quality import age_at_entry
from relais_rpu.write import (
    DEFAULT_LAYOUT,
    OscourLayout,
    Target,
    element,
    render_items,
    render_patient,
    write_patients,
)

GeoCodeLookup = Callable[[str | None], str]
"""CP (None when not sent) → PMSI geographic code; the ATIH correspondence table lives with the caller."""


@dataclass(frozen=True, slots=True)
class AtihPassage:
    """A passage stripped of its identifying items, with what replaces them."""

    passage: Passage
    code_geo: str
    age: int | None


def anonymise(passage: Passage, geo_code: GeoCodeLookup) -> AtihPassage:
    stripped = dataclasses.replace(passage, cp=None, commune=None, naissance=None, extras=(), unparsed=())
    return AtihPassage(stripped, geo_code(passage.cp), age_at_entry(passage))


def write_atih(
    target: Target,
    header: RpuHeader,
    passages: Iterable[Passage],
    geo_code: GeoCodeLookup,
    layout: OscourLayout = DEFAULT_LAYOUT,
) -> int:
    """Write the ATIH file for these passages (the caller selects the cumulative months); returns the count."""
    patients = (render_patient(_atih_items(anonymise(p, geo_code), layout.seconds)) for p in passages)
    return write_patients(target, header, patients, layout)


def _atih_items(record: AtihPassage, seconds: bool) -> list[str]:
    items = render_items(record.passage, seconds=seconds)
    # render_items order: CP, COMMUNE, NAISSANCE, …
    age = str(record.age) if record.age is not None else None
    return [element("CODE_GEO", record.code_geo), element("AGE", age), *items[3:]]
