"""The rows blob exchanged between transformer and loader: JSON lines `{"table": name, "row": {column: value}}`.

A row holds the table's key columns and only the columns its source owns: several sources feed one table
(activite_sanitaire gets ANN_RPU, ANN_SAE and MEN_PMSI_ANNUEL columns), so a load updates only the columns present.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO, Any, Protocol

Row = dict[str, Any]


class Writable(Protocol):
    def write(self, chunk: bytes, /) -> Any: ...


def _default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not serialisable in a rows blob")


def write_rows(out: Writable, rows: Iterable[tuple[str, Row]]) -> int:
    count = 0
    for table, row in rows:
        out.write(
            json.dumps({"table": table, "row": row}, default=_default, ensure_ascii=False).encode() + b"\n"
        )
        count += 1
    return count


def read_rows(source: IO[bytes]) -> Iterator[tuple[str, Row]]:
    for line in source:
        if line.strip():
            record = json.loads(line)
            yield record["table"], record["row"]
