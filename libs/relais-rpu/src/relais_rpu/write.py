"""Streaming OSCOUR XML writer: header then passages from any iterator, bounded memory, plain string building.

String building with targeted escaping rather than lxml/ElementTree: the daily Santé publique France flow and the
replays write millions of passages, and building a tree per passage costs several times more. Output is flushed
in blocks of `_BLOCK` passages, so memory does not depend on the number of passages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from relais_rpu.dates import format_date, format_datetime
from relais_rpu.model import Passage, RpuHeader

_BLOCK = 2000
_DECLARED_NAMES = {"iso-8859-1": "ISO-8859-1", "iso-8859-15": "ISO-8859-15", "utf-8": "UTF-8"}

Target = str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True, slots=True)
class OscourLayout:
    """How a file is laid out. Defaults are the legal format; the other switches reproduce what establishments'
    software sends (used by the synthetic generator and by tests of the parser's tolerance)."""

    encoding: str = "iso-8859-1"
    declare_encoding: bool = True
    crlf: bool = False
    passages_per_patient: bool = False
    seconds: bool = False


DEFAULT_LAYOUT = OscourLayout()


def escape(text: str) -> str:
    # Most values are codes without markup characters: test before replacing, it is cheaper than always replacing.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def element(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else f"<{tag}/>"


def prolog(layout: OscourLayout) -> str:
    if not layout.declare_encoding:
        return '<?xml version="1.0"?>\n'
    declared = _DECLARED_NAMES.get(layout.encoding.lower(), layout.encoding.upper())
    return f'<?xml version="1.0" encoding="{declared}"?>\n'


def render_header(header: RpuHeader, *, seconds: bool = True) -> str:
    return (
        "<ETABLISSEMENT>\n"
        f"  {element('FINESS', header.finess)}\n"
        f"  {element('ORDRE', header.ordre)}\n"
        f"  {element('EXTRACT', _datetime(header.extract, seconds))}\n"
        f"  {element('DATEDEBUT', _date(header.date_debut))}\n"
        f"  {element('DATEFIN', _date(header.date_fin))}\n"
        "</ETABLISSEMENT>\n"
    )


def render_items(passage: Passage, *, seconds: bool = False) -> list[str]:
    """One XML fragment per item, in specification order, then the extra elements (kept as one last fragment)."""
    p = passage
    raw = dict(p.unparsed) if p.unparsed else {}
    naissance = format_date(p.naissance) if p.naissance else raw.get("NAISSANCE")
    sortie = format_datetime(p.sortie, seconds=seconds) if p.sortie else raw.get("SORTIE")
    items = [
        element("CP", p.cp),
        element("COMMUNE", p.commune),
        element("NAISSANCE", naissance),
        element("SEXE", p.sexe),
        element("ENTREE", format_datetime(p.entree, seconds=seconds)),
        element("MODE_ENTREE", p.mode_entree),
        element("PROVENANCE", p.provenance),
        element("TRANSPORT", p.transport),
        element("TRANSPORT_PEC", p.transport_pec),
        element("MOTIF", p.motif),
        element("GRAVITE", p.gravite),
        element("DP", p.dp),
        "<LISTE_DA>" + "".join(f"<DA>{escape(c)}</DA>" for c in p.da) + "</LISTE_DA>"
        if p.da
        else "<LISTE_DA/>",
        "<LISTE_ACTES>" + "".join(f"<ACTE>{escape(c)}</ACTE>" for c in p.actes) + "</LISTE_ACTES>"
        if p.actes
        else "<LISTE_ACTES/>",
        element("SORTIE", sortie),
        element("MODE_SORTIE", p.mode_sortie),
        element("DESTINATION", p.destination),
        element("ORIENT", p.orient),
    ]
    if p.extras:
        items.append("".join(element(tag, value) for tag, value in p.extras))
    return items


def render_patient(items: Iterable[str]) -> str:
    return "<PATIENT>\n  " + "\n  ".join(items) + "\n</PATIENT>\n"


def render_passage(passage: Passage, *, seconds: bool = False) -> str:
    """The PATIENT element in specification order: `render_patient(render_items(p))`, built in one go (hot path)."""
    p = passage
    if p.unparsed or p.extras or _needs_escape(p):
        return render_patient(render_items(p, seconds=seconds))
    # Plain passage, no markup characters: one f-string, no per-item calls.
    return (
        f"<PATIENT>\n  {f'<CP>{p.cp}</CP>' if p.cp else '<CP/>'}"
        f"\n  {f'<COMMUNE>{p.commune}</COMMUNE>' if p.commune else '<COMMUNE/>'}"
        f"\n  {f'<NAISSANCE>{format_date(p.naissance)}</NAISSANCE>' if p.naissance else '<NAISSANCE/>'}"
        f"\n  {_plain_clinical_items(p, seconds)}\n</PATIENT>\n"
    )


def _plain_clinical_items(p: Passage, seconds: bool) -> str:
    """SEXE … ORIENT of a passage without markup characters, as one string (hot path of both writers: the OSCOUR
    and the anonymised ATIH PATIENT differ only in the identifying items that precede these)."""
    return (
        f"{f'<SEXE>{p.sexe}</SEXE>' if p.sexe else '<SEXE/>'}"
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
    )


def _list(wrapper: str, tag: str, codes: tuple[str, ...]) -> str:
    if not codes:
        return f"<{wrapper}/>"
    inner = "".join([f"<{tag}>{code}</{tag}>" for code in codes])
    return f"<{wrapper}>{inner}</{wrapper}>"


def _needs_escape(p: Passage) -> bool:
    text = (
        f"{p.cp}{p.commune}{p.sexe}{p.mode_entree}{p.provenance}{p.transport}{p.transport_pec}{p.motif}"
        f"{p.gravite}{p.dp}{p.mode_sortie}{p.destination}{p.orient}{''.join(p.da)}{''.join(p.actes)}"
    )
    return "&" in text or "<" in text or ">" in text


def write_oscour(
    target: Target, header: RpuHeader, passages: Iterable[Passage], layout: OscourLayout = DEFAULT_LAYOUT
) -> int:
    """Write a whole OSCOUR file; returns the number of passages written."""
    seconds = layout.seconds
    return write_patients(target, header, (render_passage(p, seconds=seconds) for p in passages), layout)


def write_patients(target: Target, header: RpuHeader, patients: Iterable[str], layout: OscourLayout) -> int:
    """Write an OSCOUR file from already rendered PATIENT elements (see `render_patient`)."""
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as out:
            return write_patients(out, header, patients, layout)
    encoding, crlf = layout.encoding, layout.crlf

    def flush(text: str) -> None:
        if crlf:
            text = text.replace("\n", "\r\n")
        # Characters the declared encoding lacks become character references: the file stays valid and lossless.
        target.write(text.encode(encoding, "xmlcharrefreplace"))

    flush(prolog(layout) + "<OSCOUR>\n" + render_header(header))
    per_patient = layout.passages_per_patient
    block: list[str] = [] if per_patient else ["<PASSAGES>\n"]
    count = 0
    for patient in patients:
        block.append(f"<PASSAGES>\n{patient}</PASSAGES>\n" if per_patient else patient)
        count += 1
        if len(block) >= _BLOCK:
            flush("".join(block))
            block.clear()
    block.append("</OSCOUR>\n" if per_patient else "</PASSAGES>\n</OSCOUR>\n")
    flush("".join(block))
    return count


def _date(value: date | None) -> str | None:
    return format_date(value) if value else None


def _datetime(value: datetime | None, seconds: bool) -> str | None:
    return format_datetime(value, seconds=seconds) if value else None
