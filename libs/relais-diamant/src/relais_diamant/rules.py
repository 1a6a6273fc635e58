"""The rules of DIAMANT ingestion (shared/specs/diamant.md §5), as pure functions on cells and rows: no I/O.

- Cells: `;` files carry decimals with a point (`0.9977`, `.1197`, `2.112E-2`), no thousands separator, empty = null;
  money may be negative. FINESS numbers stay text; one that lost its leading zero (8 digits whose re-padded form has a
  valid check key) is re-padded and noted.
- Year window: annual blocks keep N−5..N−1, monthly blocks N−4..N; N is configurable and recorded with each load.
- A blank or malformed `Année` rejects that row (reported with its line), never the file.
- Rows whose FINESS is unknown in the referential (ET table, or EJ table for EJ blocks) are reported, count and list.
- Null keys are dropped and reported.
- Duplicated keys (an ET attached to two EJs, the same ET twice…) are resolved deterministically — the same file
  content gives the same choice whatever the row order — and reported. The winner is, in order: the row whose
  `Finess EJ` is the ET's EJ in the FINESS referential; the row with the most filled values; the row whose content
  has the highest digest (an arbitrary but stable order). Identical rows keep the first one.
- Every file gets a quality report: rows read, kept, rejected by reason, per-table counts, unknown FINESS,
  duplicates, and the first problems, each naming file, line and rule.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relais_diamant.definitions import Kind, Period
from relais_finess.number import check as check_finess

# Rule names: stable identifiers, used as report keys; the French detail goes with each problem.
ANNEE_VIDE = "annee_vide"
ANNEE_INVALIDE = "annee_invalide"
MOIS_INVALIDE = "mois_invalide"
HORS_FENETRE = "hors_fenetre"
FINESS_VIDE = "finess_vide"
FINESS_INVALIDE = "finess_invalide"
FINESS_INCONNU = "finess_inconnu"
FINESS_COMPLETE = "finess_complete"  # a lost leading zero restored: the row is kept
DOUBLON = "doublon"
NOMBRE_DE_CHAMPS = "nombre_de_champs"
VALEUR_INVALIDE = "valeur_invalide"  # one cell unreadable: the cell becomes null, the row is kept
CLE_VIDE = "cle_vide"  # a key cell other than FINESS and year (an `Id Dépôt`) empty
CLE_INVALIDE = "cle_invalide"  # … or unreadable

RULE_TEXT = {
    ANNEE_VIDE: "année vide",
    ANNEE_INVALIDE: "année illisible",
    MOIS_INVALIDE: "mois absent ou hors de 1..12",
    HORS_FENETRE: "année hors de la fenêtre retenue",
    FINESS_VIDE: "numéro FINESS vide",
    FINESS_INVALIDE: "numéro FINESS invalide",
    FINESS_INCONNU: "numéro FINESS inconnu du référentiel FINESS",
    FINESS_COMPLETE: "numéro FINESS complété d'un zéro initial perdu",
    DOUBLON: "clé en double",
    NOMBRE_DE_CHAMPS: "nombre de champs différent de l'en-tête",
    VALEUR_INVALIDE: "valeur illisible (mise à vide)",
    CLE_VIDE: "élément de clé vide",
    CLE_INVALIDE: "élément de clé illisible",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule broken at one line of one file; `str()` is the French message shown to ARS staff."""

    file: str
    line: int
    rule: str
    detail: str = ""

    def __str__(self) -> str:
        text = RULE_TEXT.get(self.rule, self.rule)
        return f"{self.file}, ligne {self.line} : {text} [{self.rule}]" + (
            f" — {self.detail}" if self.detail else ""
        )


class Rejected(ValueError):
    """A row (or one block of a row) breaks a rule and is not kept."""

    def __init__(self, rule: str, detail: str = "", finess: str | None = None) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail
        self.finess = finess  # the unknown number, for FINESS_INCONNU


# --- cells -------------------------------------------------------------------------------------------------------


def parse_float(raw: str) -> float | None:
    # float() ignores surrounding whitespace itself; ~3M cells on a national ANN_MS_TDP_ET, so the blank cell is
    # only looked for when float() refuses.
    try:
        value = float(raw)  # ValueError on anything but a plain decimal ("1,5", "KO"…)
    except ValueError:
        if not raw.strip():
            return None
        raise
    if not math.isfinite(value) or "_" in raw:  # nan and ±inf; Python's own digit separators ("1_000")
        raise ValueError(f"{raw!r} n'est pas un nombre décimal")
    return value


def parse_integer(raw: str) -> int | None:
    value = parse_float(raw)
    if value is None:
        return None
    if not value.is_integer():
        raise ValueError(f"{raw!r} n'est pas un entier")
    return int(value)


def parse_text(raw: str) -> str | None:
    text = raw.strip()
    return text or None


def parse_text_key(raw: str) -> str:
    return raw.strip()


def parse_date(raw: str) -> date | None:
    """A `dd/mm/YYYY` date (the CPOM date); ValueError on anything else."""
    text = raw.strip()
    if not text:
        return None
    day, month, year = text.split("/")  # ValueError unless exactly three parts
    if len(year) != 4:
        raise ValueError(f"{raw!r} n'est pas une date jj/mm/aaaa")
    return date(int(year), int(month), int(day))


def parse_integer_key(raw: str) -> int:
    """An integer key cell (`Id Dépôt`): Rejected when empty or unreadable, since a key cannot be null."""
    try:
        value = parse_integer(raw)
    except ValueError:
        raise Rejected(CLE_INVALIDE, repr(raw)) from None
    if value is None:
        raise Rejected(CLE_VIDE)
    return value


def parse_year(raw: str) -> int:
    text = raw.strip()
    if not text:
        raise Rejected(ANNEE_VIDE)
    try:
        year = parse_integer(text)
    except ValueError:
        raise Rejected(ANNEE_INVALIDE, repr(raw)) from None
    if year is None or not 1900 <= year <= 2999:
        raise Rejected(ANNEE_INVALIDE, repr(raw))
    return year


def parse_month(raw: str) -> int:
    try:
        month = parse_integer(raw)
    except ValueError:
        month = None
    if month is None or not 1 <= month <= 12:
        raise Rejected(MOIS_INVALIDE, repr(raw))
    return month


def normalise_finess(raw: str) -> tuple[str | None, bool]:
    """(number or None when empty, whether a lost leading zero was restored).

    Only the shape is checked here (Rejected when it cannot be a FINESS number at all): membership of the referential
    decides, and `finess_problem` tells why an absent number is absent."""
    text = raw.strip().upper()
    if not text:
        return None, False
    if len(text) == 8 and text.isdigit() and check_finess("0" + text).valid:
        return "0" + text, True
    if len(text) != 9 or not text.isalnum():
        raise Rejected(FINESS_INVALIDE, f"{raw.strip()!r} : {check_finess(text).reason}")
    return text, False


def finess_problem(number: str, level_table: str) -> Rejected:
    """Why a number absent from the referential is refused: an invalid number (bad check key…) or an unknown one."""
    verdict = check_finess(number)
    if not verdict.valid:
        return Rejected(FINESS_INVALIDE, f"{number} : {verdict.reason}", finess=number)
    return Rejected(FINESS_INCONNU, f"{number} absent de la table {level_table}", finess=number)


VALUE_PARSERS = {
    Kind.FLOAT: parse_float,
    Kind.INTEGER: parse_integer,
    Kind.TEXT: parse_text,
    Kind.TEXT_KEY: parse_text_key,
    Kind.DATE: parse_date,
}


def parse_value(kind: Kind, raw: str) -> Any:
    """A value cell; ValueError when unreadable (the caller nulls the cell and reports it)."""
    return VALUE_PARSERS[kind](raw)


def beneficiaire(et: str | None, ej: str | None) -> str:
    """Who an allocation is notified to: the ET when the row names one, else the EJ (never both empty: the EJ is
    checked first)."""
    return et or ej or ""


# --- year window ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearWindow:
    first: int
    last: int

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and self.first <= year <= self.last

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def year_window(period: Period, reference_year: int) -> YearWindow:
    """Annual blocks: N−5..N−1 (the current year is not closed); monthly blocks: N−4..N."""
    if period is Period.ANNUAL:
        return YearWindow(reference_year - 5, reference_year - 1)
    return YearWindow(reference_year - 4, reference_year)


# --- referential ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Referential:
    """The FINESS numbers known when a file is transformed, and each ET's EJ (to settle duplicates)."""

    etablissements: frozenset[str]
    entites_juridiques: frozenset[str]
    ej_of_et: Mapping[str, str] = field(default_factory=dict)


# --- duplicates ----------------------------------------------------------------------------------------------------


def rank(values: Iterable[str], ej_matches: bool) -> int:
    """How strongly a row claims its key, from its raw value cells: higher wins (see the module docstring).

    Packed in one integer: EJ agreement, then number of filled cells, then a 64-bit digest of the stripped cells
    (content only, so the choice never depends on row order, and identical rows tie)."""
    cells = [value.strip() for value in values]
    digest = int.from_bytes(hashlib.blake2b("\x1f".join(cells).encode(), digest_size=8).digest(), "big")
    filled = sum(1 for cell in cells if cell)
    return (int(ej_matches) << 80) | (filled << 64) | digest


@dataclass(slots=True)
class Duplicate:
    table: str
    key: tuple[Any, ...]
    kept_line: int
    dropped_line: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": list(self.key),
            "kept_line": self.kept_line,
            "dropped_line": self.dropped_line,
        }


# --- quality report ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class QualityReport:
    """Counts and problems for one file. Only the first `max_problems` problems and `max_unknown` unknown FINESS
    numbers are listed, so a file broken on every line cannot exhaust memory; the counts always cover them all."""

    file: str
    source: str
    reference_year: int
    window: YearWindow
    generation: str | None = None
    unused_labels: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    tables: dict[str, int] = field(default_factory=dict)
    unknown_finess: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    duplicate_examples: list[Duplicate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    max_problems: int = 200
    max_unknown: int = 1000

    def problem(self, line: int, rule: str, detail: str = "") -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(self.file, line, rule, detail))

    def reject(self, line: int, rule: str, detail: str = "", *, quiet: bool = False) -> None:
        """A row not kept; `quiet` rules (the year window) are counted but not listed one by one."""
        self.rejected[rule] += 1
        if not quiet:
            self.problem(line, rule, detail)

    def as_dict(self) -> dict[str, Any]:
        unknown = sorted(self.unknown_finess)
        return {
            "file": self.file,
            "source": self.source,
            "generation": self.generation,
            "reference_year": self.reference_year,
            "window": [self.window.first, self.window.last],
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "notes": dict(sorted(self.notes.items())),
            "tables": dict(self.tables),
            "unknown_finess": {
                "rows": sum(self.unknown_finess.values()),
                "count": len(unknown),
                "numbers": unknown[: self.max_unknown],
                "truncated": len(unknown) > self.max_unknown,
            },
            "duplicates": {
                "count": self.duplicates,
                "examples": [d.as_dict() for d in self.duplicate_examples],
            },
            "unused_labels": self.unused_labels,
            "problem_count": self.problem_count,
            "problems": [str(p) for p in self.problems],
        }
