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
from typing import BinaryIO

from relais_rpu.dates import format_datetime
from relais_rpu.model import Passage, RpuHeader
from relais_rpu.quality import age_at_entry
from relais_rpu.write import (
    DEFAULT_LAYOUT,
    OscourLayout,
    Target,
    _list,
    _needs_escape,
    element,
    prolog,
    render_header,
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
    seconds = layout.seconds
    patients = (render_atih(p, geo_code(p.cp), age_at_entry(p), seconds=seconds) for p in passages)
    return write_patients(target, header, patients, layout)


def render_atih(passage: Passage, code_geo: str, age: int | None, *, seconds: bool = False) -> str:
    """The anonymised PATIENT element. Same output as `render_patient(_atih_items(anonymise(...)))`, built in one
    f-string for plain passages (the monthly export writes millions of them); the identifying fields of `passage`
    (CP, COMMUNE, NAISSANCE, extras, raw unreadable values) are never read here."""
    p = passage
    if _needs_escape(p):
        stripped = dataclasses.replace(p, cp=None, commune=None, naissance=None, extras=(), unparsed=())
        return render_patient(_atih_items(AtihPassage(stripped, code_geo, age), seconds))
    return (
        f"<PATIENT>\n  <CODE_GEO>{code_geo}</CODE_GEO>"
        f"\n  {'<AGE/>' if age is None else f'<AGE>{age}</AGE>'}"
        f"\n  {f'<SEXE>{p.sexe}</SEXE>' if p.sexe else '<SEXE/>'}"
        f"\n  <ENTREE>{format_datetime(p.entree, seconds=seconds)}</ENTREE>"
        f"\n  {f'<MODE_ENTREE>{p.mode_entree}</MODE_ENTREE>' if p.mode_entree else '<MODE_ENTREE/>'}"
        f"\n  {f'<PROVENANCE>{p.provenance}</PROVENANCE>' if p.provenance else '<PROVENANCE/>'}"
        f"\n  {f'<TRANSPORT>{p.transport}</TRANSPORT>' if p.transport else '<TRANSPORT/>'}"
        f"\n  {f'<TRANSPORT_PEC>{p.transport_pec}</TRANSPORT_PEC>' if p.transport_pec else '<TRANSPORT_PEC/>'}"
        f"\n  {f'<MOTIF>{p.motif}</MOTIF>' if p.motif else '<MOTIF/>'}"
        f"\n  {f'<GRAVITE>{p.gravite}</GRAVITE>' if p.gravite else '<GRAVITE/>'}"
        f"\n  {f'<DP>{p.dp}</DP>' if p.dp else '<DP/>'}"
        f"\n  {_list('LISTE_DA', 'DA', p.da)}\n  {_list('LISTE_ACTES', 'ACTE', p.actes)}"
        f"\n  {f'<SORTIE>{format_datetime(p.sortie, seconds=seconds)}</SORTIE>' if p.sortie else '<SORTIE/>'}"
        f"\n  {f'<MODE_SORTIE>{p.mode_sortie}</MODE_SORTIE>' if p.mode_sortie else '<MODE_SORTIE/>'}"
        f"\n  {f'<DESTINATION>{p.destination}</DESTINATION>' if p.destination else '<DESTINATION/>'}"
        f"\n  {f'<ORIENT>{p.orient}</ORIENT>' if p.orient else '<ORIENT/>'}"
        "\n</PATIENT>\n"
    )


def _atih_items(record: AtihPassage, seconds: bool) -> list[str]:
    items = render_items(record.passage, seconds=seconds)
    # render_items order: CP, COMMUNE, NAISSANCE, …
    age = str(record.age) if record.age is not None else None
    return [element("CODE_GEO", record.code_geo), element("AGE", age), *items[3:]]


class AtihWriter:
    """`write_atih` for sources that deliver passages in batches (an async database cursor): `write` each batch,
    then `close`. Memory is one batch; returns and counts as `write_atih` does."""

    def __init__(
        self, out: BinaryIO, header: RpuHeader, geo_code: GeoCodeLookup, layout: OscourLayout = DEFAULT_LAYOUT
    ) -> None:
        self._out = out
        self._geo = geo_code
        self._layout = layout
        self.count = 0
        self._write(prolog(layout) + "<OSCOUR>\n" + render_header(header) + "<PASSAGES>\n")

    def write(self, passages: Iterable[Passage]) -> int:
        geo, seconds = self._geo, self._layout.seconds
        block = [render_atih(p, geo(p.cp), age_at_entry(p), seconds=seconds) for p in passages]
        self._write("".join(block))
        self.count += len(block)
        return len(block)

    def close(self) -> int:
        self._write("</PASSAGES>\n</OSCOUR>\n")
        return self.count

    def _write(self, text: str) -> None:
        if self._layout.crlf:
            text = text.replace("\n", "\r\n")
        self._out.write(text.encode(self._layout.encoding, "xmlcharrefreplace"))
