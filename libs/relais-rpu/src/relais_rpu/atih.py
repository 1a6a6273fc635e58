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
    _needs_escape,
    _plain_clinical_items,
    element,
    escape,
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
        f"\n  {_plain_clinical_items(p, seconds)}\n</PATIENT>\n"
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
        self.per_month: dict[str, int] = {}  # "MM" → passages written by write_text
        self._write(prolog(layout) + "<OSCOUR>\n" + render_header(header) + "<PASSAGES>\n")

    def write(self, passages: Iterable[Passage]) -> int:
        geo, seconds = self._geo, self._layout.seconds
        block = [render_atih(p, geo(p.cp), age_at_entry(p), seconds=seconds) for p in passages]
        self._write("".join(block))
        self.count += len(block)
        return len(block)

    def write_text(self, rows: Iterable[list[str]]) -> int:
        """Rows of ATIH_TEXT_FIELDS (the fast path); counts them per ENTREE month in `per_month` too."""
        geo, per_month, render = self._geo, self.per_month, render_atih_text
        block: list[str] = []
        append = block.append
        for fields in rows:
            append(render(fields, geo(fields[1] or None)))
            month = fields[0][3:5]
            per_month[month] = per_month.get(month, 0) + 1
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


# The fast path of the monthly export: the database hands each passage over as text fields, in this order, already
# in the RPU's text forms (dates `dd/MM/yyyy HH:mm[:ss]`, AGE in completed years at entry, DA and ACTE codes joined
# by LIST_SEPARATOR), '' when absent, XML-escaped. CP is there for the geographic code only and never written.
ATIH_TEXT_FIELDS: tuple[str, ...] = (
    "ENTREE", "CP", "AGE", "SEXE", "MODE_ENTREE", "PROVENANCE", "TRANSPORT", "TRANSPORT_PEC", "MOTIF", "GRAVITE",
    "DP", "DA", "ACTE", "SORTIE", "MODE_SORTIE", "DESTINATION", "ORIENT",
)  # fmt: skip
LIST_SEPARATOR = "\x1f"


def _codes(wrapper: str, tag: str, joined: str) -> str:
    if not joined:
        return f"<{wrapper}/>"
    inner = "".join([f"<{tag}>{code}</{tag}>" for code in joined.split(LIST_SEPARATOR)])
    return f"<{wrapper}>{inner}</{wrapper}>"


def render_atih_text(fields: list[str], code_geo: str) -> str:
    """The anonymised PATIENT element from ATIH_TEXT_FIELDS: the same bytes as `render_atih` of the passage."""
    (entree, _cp, age, sexe, mode_entree, provenance, transport, transport_pec, motif, gravite, dp, da, actes,
     sortie, mode_sortie, destination, orient) = fields  # fmt: skip
    return (
        f"<PATIENT>\n  <CODE_GEO>{code_geo}</CODE_GEO>"
        f"\n  {f'<AGE>{age}</AGE>' if age else '<AGE/>'}"
        f"\n  {f'<SEXE>{sexe}</SEXE>' if sexe else '<SEXE/>'}"
        f"\n  <ENTREE>{entree}</ENTREE>"
        f"\n  {f'<MODE_ENTREE>{mode_entree}</MODE_ENTREE>' if mode_entree else '<MODE_ENTREE/>'}"
        f"\n  {f'<PROVENANCE>{provenance}</PROVENANCE>' if provenance else '<PROVENANCE/>'}"
        f"\n  {f'<TRANSPORT>{transport}</TRANSPORT>' if transport else '<TRANSPORT/>'}"
        f"\n  {f'<TRANSPORT_PEC>{transport_pec}</TRANSPORT_PEC>' if transport_pec else '<TRANSPORT_PEC/>'}"
        f"\n  {f'<MOTIF>{motif}</MOTIF>' if motif else '<MOTIF/>'}"
        f"\n  {f'<GRAVITE>{gravite}</GRAVITE>' if gravite else '<GRAVITE/>'}"
        f"\n  {f'<DP>{dp}</DP>' if dp else '<DP/>'}"
        f"\n  {_codes('LISTE_DA', 'DA', da) if da else '<LISTE_DA/>'}"
        f"\n  {_codes('LISTE_ACTES', 'ACTE', actes) if actes else '<LISTE_ACTES/>'}"
        f"\n  {f'<SORTIE>{sortie}</SORTIE>' if sortie else '<SORTIE/>'}"
        f"\n  {f'<MODE_SORTIE>{mode_sortie}</MODE_SORTIE>' if mode_sortie else '<MODE_SORTIE/>'}"
        f"\n  {f'<DESTINATION>{destination}</DESTINATION>' if destination else '<DESTINATION/>'}"
        f"\n  {f'<ORIENT>{orient}</ORIENT>' if orient else '<ORIENT/>'}"
        "\n</PATIENT>\n"
    )


def atih_text_fields(passage: Passage, *, seconds: bool = False) -> list[str]:
    """ATIH_TEXT_FIELDS of a passage, as the database hands them over (for tests and non-database sources)."""
    p = passage
    age = age_at_entry(p)
    values = [
        format_datetime(p.entree, seconds=seconds), p.cp or "", "" if age is None else str(age), p.sexe or "",
        p.mode_entree or "", p.provenance or "", p.transport or "", p.transport_pec or "", p.motif or "",
        p.gravite or "", p.dp or "", LIST_SEPARATOR.join(p.da), LIST_SEPARATOR.join(p.actes),
        format_datetime(p.sortie, seconds=seconds) if p.sortie else "", p.mode_sortie or "", p.destination or "",
        p.orient or "",
    ]  # fmt: skip
    return [escape(v) for v in values]
