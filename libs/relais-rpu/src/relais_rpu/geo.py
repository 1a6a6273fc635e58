"""CP → PMSI geographic code, for the anonymised ATIH flow.

The correspondence table ships as data (`data/cp_code_geo.csv`, `cp;code_geo`): one row per postcode, small
postcodes grouped under a neighbour's code, and a `<département>999` row per département. The table in this
repository is synthetic but shaped like ATIH's yearly table; replace the file with the real one of the year (same
two columns) without touching code.

Rules around the table, in order (spec §1, CP item):
- nothing sent, not 5 characters, or `99999` → `99999` (unknown);
- `99` + INSEE country code (abroad) → kept as is;
- in the table → its code;
- a French shape not in the table (including `<dept>999`, "town unknown") → the département's fallback:
  `<dd>999`, `2A999`/`2B999` for Corsica (CP 200xx–201xx / 202xx–206xx), `<ddd>99` overseas (97x).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from importlib import resources

UNKNOWN = "99999"


def load_table(text: str | None = None) -> dict[str, str]:
    """The packaged table, or one given as CSV text (`cp;code_geo` with a header)."""
    if text is None:
        text = resources.files("relais_rpu").joinpath("data/cp_code_geo.csv").read_text("utf-8")
    rows = csv.reader(text.splitlines(), delimiter=";")
    next(rows, None)
    return {cp: code for cp, code in rows}


def departement_fallback(cp: str) -> str:
    if cp.startswith("97"):
        return f"{cp[:3]}99"
    if cp.startswith("20"):
        return "2A999" if cp[2] in "01" else "2B999"
    return f"{cp[:2]}999"


class PmsiGeoCodes:
    """A `GeoCodeLookup` (see `atih`): call it with a CP. Results are memoised (a region uses a few thousand CPs)."""

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        self._table = dict(table) if table is not None else load_table()
        self._memo: dict[str | None, str] = {}

    def __len__(self) -> int:
        return len(self._table)

    def __call__(self, cp: str | None) -> str:
        code = self._memo.get(cp)
        if code is None:
            code = self._memo[cp] = self._lookup(cp)
        return code

    def _lookup(self, cp: str | None) -> str:
        if not cp:
            return UNKNOWN
        cp = cp.strip().upper()
        if len(cp) != 5 or not (cp.isdigit() or (cp[:2] in ("2A", "2B") and cp[2:].isdigit())):
            return UNKNOWN
        if cp.startswith("99"):
            return cp  # abroad (99 + country code), or 99999 itself
        known = self._table.get(cp)
        if known is not None:
            return known
        if cp[:2] in ("2A", "2B"):
            return f"{cp[:2]}999"
        return departement_fallback(cp)
