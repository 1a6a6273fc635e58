"""From one PATIENT element to a typed `Passage` (or a `RejectedRecord` when ENTREE is missing or unreadable)."""

from __future__ import annotations

from typing import Any

from relais_rpu.cim10 import normalise_cim10
from relais_rpu.dates import parse_date, parse_datetime
from relais_rpu.model import PASSAGE_ITEMS, ParsedRecord, Passage, RejectedRecord

_SCALAR_ITEMS = frozenset(PASSAGE_ITEMS) - {"LISTE_DA", "LISTE_ACTES"}


def build_record(elem: Any, number: int) -> ParsedRecord:
    """Items may come in any order; a repeated standard item keeps its first value, later ones go to `extras`."""
    values: dict[str, str] = {}
    da: list[str] = []
    actes: list[str] = []
    extras: list[tuple[str, str]] = []
    for child in elem:
        tag = child.tag
        # Fast path first: a plain standard item, seen for the first time (nearly every element of every file).
        if tag in _SCALAR_ITEMS and tag not in values:
            values[tag] = child.text or ""
            continue
        if not isinstance(tag, str):
            continue
        if tag[0] == "{":
            tag = tag.rpartition("}")[2]
            if tag in _SCALAR_ITEMS and tag not in values:
                values[tag] = child.text or ""
                continue
        if tag == "LISTE_DA" or tag == "LISTE_ACTES":
            target = da if tag == "LISTE_DA" else actes
            for sub in child:
                if isinstance(sub.tag, str) and (text := (sub.text or "").strip()):
                    target.append(text)
        elif tag == "DA" or tag == "ACTE":  # lists sent without their LISTE_* wrapper
            if text := (child.text or "").strip():
                (da if tag == "DA" else actes).append(text)
        else:
            extras.append((tag, (child.text or "").strip()))

    # One pass strips every value; empty items (`<X/>`, blanks) then read as absent.
    clean = {tag: text for tag, raw_text in values.items() if (text := raw_text.strip())}
    raw_entree = clean.get("ENTREE", "")
    entree = parse_datetime(raw_entree) if raw_entree else None
    if entree is None:
        reason = f"ENTREE illisible : « {raw_entree} »" if raw_entree else "ENTREE absente"
        return RejectedRecord(number, reason, _raw_items(elem))

    get = clean.get
    unparsed: list[tuple[str, str]] = []
    naissance = sortie = None
    if raw := get("NAISSANCE"):
        naissance = parse_date(raw)
        if naissance is None:
            unparsed.append(("NAISSANCE", raw))
    if raw := get("SORTIE"):
        sortie = parse_datetime(raw)
        if sortie is None:
            unparsed.append(("SORTIE", raw))
    return Passage(
        entree,
        get("CP"),
        get("COMMUNE"),
        naissance,
        get("SEXE"),
        get("MODE_ENTREE"),
        get("PROVENANCE"),
        get("TRANSPORT"),
        get("TRANSPORT_PEC"),
        get("MOTIF"),
        get("GRAVITE"),
        normalise_cim10(get("DP", "")) or None,
        tuple([code for code in map(normalise_cim10, da) if code]) if da else (),
        tuple(actes) if actes else (),
        sortie,
        get("MODE_SORTIE"),
        get("DESTINATION"),
        get("ORIENT"),
        tuple(extras) if extras else (),
        tuple(unparsed) if unparsed else (),
        number,
    )


def _raw_items(elem: Any) -> tuple[tuple[str, str], ...]:
    """Every leaf of the PATIENT as (tag, text), in file order, for the rejection archive."""
    items: list[tuple[str, str]] = []
    for node in elem.iter():
        if node is elem or not isinstance(node.tag, str) or len(node):
            continue
        items.append((node.tag.rpartition("}")[2], (node.text or "").strip()))
    return tuple(items)
