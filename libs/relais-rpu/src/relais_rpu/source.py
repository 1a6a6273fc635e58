"""Opening an RPU file safely: a seekable binary stream, a prolog free of DTDs, and the encoding to force.

Why a prolog scan: lxml never resolves entities with the options `parse` uses, but a DOCTYPE has no business in an
RPU file and an internal subset is the vehicle of XXE and "billion laughs"; refusing it up front gives the
establishment a clear message instead of a half-parsed file.

Why the encoding choice happens here: a file without declaration is UTF-8 for lxml, and an invalid byte is only
found when the parser reaches it, after passages were already yielded. A UTF-8 validation pass over the stream (fast:
C decoder, 1 MB chunks, bounded memory) decides before parsing whether to force Windows-1252. Files declared
ISO-8859-1 are read as Windows-1252, its superset: software on Windows writes `’`, `€` or `œ` in the 0x80–0x9F range
that true Latin-1 reserves for control characters no establishment sends.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from relais_rpu.model import RpuFormatError

_PROLOG_LIMIT = 1 << 20
_CHUNK = 1 << 20
_DECLARED_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1"}
_UTF8_NAMES = {"utf-8", "utf8"}
_FORCED_SINGLE_BYTE = "windows-1252"
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

Source = str | os.PathLike[str] | BinaryIO


@dataclass(slots=True)
class PreparedSource:
    """A seekable stream positioned anywhere, with the encoding lxml must be told (None: trust the file)."""

    stream: BinaryIO
    start: int
    name: str
    forced_encoding: str | None
    declared_encoding: str | None
    owns_stream: bool

    def close(self) -> None:
        if self.owns_stream:
            self.stream.close()


def source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<flux RPU>"


def prepare(source: Source) -> PreparedSource:
    """Open (or adopt) the source, reject forbidden prologs and choose the decoding. Raises `RpuFormatError`."""
    name = source_name(source)
    owns = isinstance(source, str | os.PathLike)
    stream: BinaryIO = open(source, "rb") if isinstance(source, str | os.PathLike) else source
    if not stream.seekable():
        # Spooled: small transfers stay in memory, big ones go to disk, so memory stays bounded either way.
        spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
        shutil.copyfileobj(stream, spool, _CHUNK)
        spool.seek(0)
        stream, owns = spool, True  # type: ignore[assignment]
    try:
        start = stream.tell()
        prolog = stream.read(_PROLOG_LIMIT)
        declared = _scan_prolog(prolog, name)
        stream.seek(start)
        forced = _forced_encoding(stream, declared)
        stream.seek(start)
    except BaseException:
        if owns:
            stream.close()
        raise
    return PreparedSource(stream, start, name, forced, declared, owns)


def _scan_prolog(head: bytes, name: str) -> str | None:
    """The declared encoding, after checking that nothing but declaration, comments, PIs precede the root."""
    if head.startswith(_UTF16_32_BOMS):
        raise RpuFormatError(name, 1, "encodage UTF-16/UTF-32 non pris en charge")
    text = head.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    declared: str | None = None
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return declared  # lxml reports the unterminated declaration with its line
            if pos == 0 and text.startswith("<?xml", pos):
                match = _DECLARED_ENCODING.search(text, pos, end)
                declared = match.group(1).lower() if match else None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return declared
            pos = end + 3
        elif text.startswith("<!", pos):
            line = text.count("\n", 0, pos) + 1
            raise RpuFormatError(name, line, "déclaration DOCTYPE/ENTITY interdite (DTD et entités refusées)")
        else:
            return declared


def _forced_encoding(stream: BinaryIO, declared: str | None) -> str | None:
    if declared in _LATIN1_NAMES:
        return _FORCED_SINGLE_BYTE
    if declared is not None and declared not in _UTF8_NAMES:
        return None
    return None if _is_utf8(stream) else _FORCED_SINGLE_BYTE


def _is_utf8(stream: BinaryIO) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
