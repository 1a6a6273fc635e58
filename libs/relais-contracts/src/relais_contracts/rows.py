"""The rows blob exchanged between transformer and loader: JSON lines `{"table": name, "row": {…}, "mode": …}`.

A row holds the table's key columns and only the columns its source owns: several sources feed one table
(activite_sanitaire gets ANN_RPU, ANN_SAE and MEN_PMSI_ANNUEL columns), so a load updates only the columns present.
Mode `upsert` (the default) inserts or updates those columns; mode `ensure` inserts the row only when its key is
absent and never changes an existing row (a referenced parent that another file describes in full).

Encoded with orjson: a national DIAMANT batch is ~970k rows of up to ~100 columns (~700 MB of JSON lines), and the
standard library's json spent most of the loader's and a good part of the transformer's time there (parsing the
177 MB ANN_MS_TDP_ET blob: 11 s with json, see the loader's pg_indicators). Same bytes on the wire, so a blob written
by either library reads with the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Literal, Protocol

import orjson

Row = dict[str, Any]
Mode = Literal["upsert", "ensure"]
TableRow = tuple[str, Row] | tuple[str, Row, Mode]


class Writable(Protocol):
    def write(self, chunk: bytes, /) -> Any: ...


def _default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not serialisable in a rows blob")


def write_rows(out: Writable, rows: Iterable[TableRow]) -> int:
    count = 0
    for item in rows:
        record: dict[str, Any] = {"table": item[0], "row": item[1]}
        if len(item) == 3 and item[2] != "upsert":
            record["mode"] = item[2]
        out.write(orjson.dumps(record, default=_default, option=orjson.OPT_APPEND_NEWLINE))
        count += 1
    return count


def read_rows(source: Iterable[bytes]) -> Iterator[tuple[str, Row, Mode]]:
    for line in source:
        if line.strip():
            record = orjson.loads(line)
            yield record["table"], record["row"], record.get("mode", "upsert")
