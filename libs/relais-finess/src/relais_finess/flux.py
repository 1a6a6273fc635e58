"""Streaming, safe readers of the ministry's FINESS XML flux (the files Helios ingests).

`finess_cs1400101_stock_*.xml.gz` (EJ, one `structureej` per record) and `finess_cs1400102_stock_*.xml.gz`
(ET, one `structureet`), under a root `fluxfiness`; a null is an empty element with `xsi:nil="true"`.

Safety: the flux never declares a DTD, so a DOCTYPE is refused before the parser sees it (this closes both
external-entity reads and entity-expansion bombs, whose expansion starts inside the DTD itself). The parser
is also told not to resolve entities, load DTDs or touch the network, and the tree's DOCTYPE is checked
again at the first record, in case one hid behind a prolog longer than the scanned head.
Memory stays bounded: each record is dropped from the tree once read.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from lxml import etree

from relais_finess import _fields
from relais_finess.referential import EntiteJuridique, EtablissementTerritorial
from relais_finess.report import ParseReport, RecordRejected

ROOT = "fluxfiness"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_GZIP_MAGIC = b"\x1f\x8b"
_NIL = ("true", "1")
_DOCTYPE_REFUSED = "déclaration DOCTYPE interdite dans un flux FINESS (entités refusées), fichier rejeté"
_PROLOG_SCAN = 64 * 1024
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")

Record = TypeVar("Record")


def read_entites_juridiques_xml(path: Path, report: ParseReport) -> Iterator[EntiteJuridique]:
    """The EJs of a cs1400101 flux (gzipped or not)."""
    return _read(path, report, "structureej", lambda fields: _fields.entite_juridique(fields, "nofiness"))


def read_etablissements_xml(path: Path, report: ParseReport) -> Iterator[EtablissementTerritorial]:
    """The ETs of a cs1400102 flux (gzipped or not), closed and caduc ones included: see is_active()."""
    return _read(path, report, "structureet", _fields.etablissement)


def _open(path: Path) -> BinaryIO:
    # Sniff the content rather than trust the name: a decompressed copy may keep its .gz suffix.
    with path.open("rb") as probe:
        magic = probe.read(2)
    return cast(BinaryIO, gzip.open(path, "rb")) if magic == _GZIP_MAGIC else path.open("rb")


def _declares_doctype(path: Path) -> bool:
    head = b""
    with _open(path) as stream:
        # Small reads: a truncated gzip raises on a read crossing its end, and its head is still worth a look
        # (the parser then reports the truncation with a line number).
        try:
            while len(head) < _PROLOG_SCAN and (chunk := stream.read(4096)):
                head += chunk
        except EOFError:
            pass
    first_element = _FIRST_ELEMENT.search(head)
    prolog = head if first_element is None else head[: first_element.start()]
    return b"<!DOCTYPE" in prolog


def _fields_of(element: Any) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments and processing instructions have a non-string tag
            continue
        value = child.text
        # A nil element has no text; one carrying text and a nil flag contradicts itself: nil wins.
        fields[tag] = None if value is None or child.get(XSI_NIL) in _NIL else value
    return fields


def _read(
    path: Path, report: ParseReport, tag: str, build: Callable[[_fields.Fields], Record]
) -> Iterator[Record]:
    report.encoding = None  # declared by the XML prolog, handled by the parser
    try:
        refused = _declares_doctype(path)
    except OSError as error:
        report.add(f"fichier illisible : {error}")
        return
    if refused:
        report.add(_DOCTYPE_REFUSED, line=1)
        return
    with _open(path) as stream:
        # Only record ends reach Python (the tag filter runs in libxml2): 13 times fewer events than
        # walking every field, which matters on the 45,000-record ET flux.
        events = etree.iterparse(
            stream,
            events=("end",),
            tag=tag,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
        )
        checked = False
        try:
            for _, element in events:
                root = element.getroottree().getroot()
                if not checked and not _root_is_acceptable(root, report):
                    return
                checked = True
                record = _record(element, root, tag, report, build)
                _release(element, tag, report)
                if record is not None:
                    yield record
        except (etree.XMLSyntaxError, OSError, EOFError) as error:
            report.add(
                f"XML illisible, lecture du fichier interrompue : {error}",
                line=getattr(error, "lineno", None),
            )
            return
        root = events.root
        if root is not None and (checked or _root_is_acceptable(root, report)):
            for stray in root:
                _report_stray(stray, tag, report)


def _release(element: Any, tag: str, report: ParseReport) -> None:
    # Drop what was read, and whatever came before it: the root keeps every finished child otherwise.
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        _report_stray(parent[0], tag, report)
        del parent[0]


def _report_stray(element: Any, tag: str, report: ParseReport) -> None:
    if isinstance(element.tag, str) and element.tag != tag:
        report.add(f"élément <{element.tag}> inattendu, <{tag}> attendu", line=element.sourceline)


def _root_is_acceptable(root: Any, report: ParseReport) -> bool:
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        report.add(_DOCTYPE_REFUSED, line=1)
        return False
    if root.tag != ROOT:
        report.add(f"racine <{ROOT}> attendue, <{root.tag}> trouvée, fichier rejeté", line=root.sourceline)
        return False
    return True


def _record(
    element: Any, root: Any, tag: str, report: ParseReport, build: Callable[[_fields.Fields], Record]
) -> Record | None:
    report.records_read += 1
    number = report.records_read
    if element.getparent() is not root:
        report.add(
            f"<{tag}> imbriqué dans <{element.getparent().tag}>", record=number, line=element.sourceline
        )
        return None
    try:
        record = build(_fields_of(element))
    except RecordRejected as rejected:
        report.add(rejected.rule, record=number, line=element.sourceline)
        return None
    report.records_accepted += 1
    return record
