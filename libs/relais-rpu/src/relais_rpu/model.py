"""The RPU record as the OSCOUR envelope carries it: a header per file and one `Passage` per PATIENT element.

Slotted dataclasses rather than pydantic models: a concentrator handles millions of passages a day and
validation belongs to `quality`, not to construction. Code items stay plain strings so that a wrong code sent by an
establishment is kept (and reported) instead of breaking the parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# The 18 items of a PATIENT in the order of the 2006 RPU specification; writers use this order.
PASSAGE_ITEMS: tuple[str, ...] = (
    "CP",
    "COMMUNE",
    "NAISSANCE",
    "SEXE",
    "ENTREE",
    "MODE_ENTREE",
    "PROVENANCE",
    "TRANSPORT",
    "TRANSPORT_PEC",
    "MOTIF",
    "GRAVITE",
    "DP",
    "LISTE_DA",
    "LISTE_ACTES",
    "SORTIE",
    "MODE_SORTIE",
    "DESTINATION",
    "ORIENT",
)

Extras = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RpuHeader:
    """The ETABLISSEMENT element. Dates are None when absent or unreadable: FEDORU only rejects on FINESS."""

    finess: str
    ordre: str = "0"
    extract: datetime | None = None
    date_debut: date | None = None
    date_fin: date | None = None


# Not frozen, unlike the other records: a frozen dataclass's __init__ sets each of its 21 fields through
# object.__setattr__ (4.3 µs a passage against 0.6), a tenth of the parser's time. Treat it as immutable all the same
# (`dataclasses.replace` for a changed copy).
@dataclass(slots=True)
class Passage:
    """One emergency-department visit (PATIENT element).

    `dp` and `da` hold normalised CIM-10 codes (see `cim10.normalise_cim10`). `extras` keeps non-standard elements
    (HMED, CIRCONSTANCE, *_UHCD…) in file order. `unparsed` keeps the raw text of NAISSANCE/SORTIE when it could
    not be read as a date, so nothing sent is lost and quality can report it. `record_number` is the 1-based rank
    of the PATIENT element in its file; it is not an identifier (the format has none).
    """

    entree: datetime
    cp: str | None = None
    commune: str | None = None
    naissance: date | None = None
    sexe: str | None = None
    mode_entree: str | None = None
    provenance: str | None = None
    transport: str | None = None
    transport_pec: str | None = None
    motif: str | None = None
    gravite: str | None = None
    dp: str | None = None
    da: tuple[str, ...] = ()
    actes: tuple[str, ...] = ()
    sortie: datetime | None = None
    mode_sortie: str | None = None
    destination: str | None = None
    orient: str | None = None
    extras: Extras = ()
    unparsed: Extras = ()
    record_number: int = 0


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A PATIENT element refused on its own (FEDORU: ENTREE missing); its raw items are kept for the archive."""

    record_number: int
    reason: str
    items: Extras = ()


ParsedRecord = Passage | RejectedRecord


class RpuFormatError(Exception):
    """The file is not well-formed XML (or uses a forbidden construct): the whole file is rejected."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        where = f" ligne {line}" if line is not None else ""
        super().__init__(f"{source}{where} : fichier RPU rejeté, XML invalide : {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class RpuRejected(Exception):
    """The file is well-formed but refused as a whole (FEDORU: FINESS missing or invalid)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} : fichier RPU rejeté : {reason}")
        self.source = source
        self.reason = reason
