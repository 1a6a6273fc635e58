"""Streaming OSCOUR parser: bounded memory whatever the file size, tolerant of what establishments really send.

`open_rpu` reads the header (and rejects the file when its FINESS is missing or invalid); iterating the returned
`RpuFile` yields one `ParsedRecord` per PATIENT element, wherever it sits (`<PASSAGES>` may be repeated per patient).
A PATIENT without a readable ENTREE is yielded as a `RejectedRecord`; a syntax error raises `RpuFormatError` at the
point it is met, after the records before it were yielded, so the caller decides whether to keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

from lxml import etree

from relais_finess import check as check_finess
from relais_rpu.dates import parse_date, parse_datetime
from relais_rpu.model import ParsedRecord, RpuFormatError, RpuHeader, RpuRejected
from relais_rpu.record import build_record
from relais_rpu.source import PreparedSource, Source, prepare

# Entities stay unexpanded, no DTD is fetched, nothing goes on the network, and libxml2's limits on node size and
# depth stay on (huge_tree=False) — the prolog scan has already refused any DOCTYPE.
_SAFE_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_PATIENT = "{*}PATIENT"
_PASSAGES = "{*}PASSAGES"
_ETABLISSEMENT = "{*}ETABLISSEMENT"


class RpuFile:
    """An opened RPU file. Iterate it (once or several times) for its records; close it, or use `with`."""

    def __init__(self, source: PreparedSource, header: RpuHeader) -> None:
        self._source = source
        self.header = header
        self.name = source.name

    def __iter__(self) -> Iterator[ParsedRecord]:
        return self.records()

    def records(self) -> Iterator[ParsedRecord]:
        number = 0
        for elem in _elements(self._source, (_PATIENT, _PASSAGES, _ETABLISSEMENT)):
            if _local(elem.tag) == "PATIENT":
                number += 1
                yield build_record(elem, number)
            _forget(elem)

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> RpuFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def open_rpu(source: Source) -> RpuFile:
    """Open a path or binary file object. Raises `RpuFormatError` (not XML, DOCTYPE) or `RpuRejected` (FINESS)."""
    prepared = prepare(source)
    try:
        header = _read_header(prepared)
    except BaseException:
        prepared.close()
        raise
    return RpuFile(prepared, header)


def _read_header(source: PreparedSource) -> RpuHeader:
    # Usually the first element; when an establishment puts it after the passages this pass reads (and drops)
    # them, and `records` starts over — a second read rather than buffering passages.
    for elem in _elements(source, (_ETABLISSEMENT, _PATIENT)):
        if _local(elem.tag) == "ETABLISSEMENT":
            return _header(elem, source.name)
        _forget(elem)
    raise RpuRejected(source.name, "FINESS absent : élément ETABLISSEMENT manquant")


def _header(elem: Any, name: str) -> RpuHeader:
    values = {_local(child.tag): (child.text or "").strip() for child in elem if isinstance(child.tag, str)}
    finess = values.get("FINESS", "")
    verdict = check_finess(finess)
    if not finess:
        raise RpuRejected(name, "FINESS absent de l'en-tête ETABLISSEMENT")
    if not verdict.valid:
        raise RpuRejected(name, f"FINESS {finess} invalide : {verdict.reason}")
    return RpuHeader(
        finess=finess,
        ordre=values.get("ORDRE") or "0",
        extract=parse_datetime(values.get("EXTRACT", "")),
        date_debut=parse_date(values.get("DATEDEBUT", "")),
        date_fin=parse_date(values.get("DATEFIN", "")),
    )


def _elements(source: PreparedSource, tags: tuple[str, ...]) -> Iterator[Any]:
    source.stream.seek(source.start)
    context = etree.iterparse(
        source.stream, events=("end",), tag=tags, encoding=source.forced_encoding, **_SAFE_OPTIONS
    )
    checked = False
    try:
        for _event, elem in context:
            if not checked:
                # Defence in depth behind the prolog scan: libxml2 saw a DOCTYPE we missed.
                if elem.getroottree().docinfo.doctype:
                    raise RpuFormatError(source.name, None, "déclaration DOCTYPE interdite")
                checked = True
            yield elem
    except etree.XMLSyntaxError as error:
        raise RpuFormatError(source.name, error.lineno, error.msg) from None


def _forget(elem: Any) -> None:
    """Drop what was parsed so far: memory then depends on one PATIENT, not on the file."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[0] == "{" else tag
