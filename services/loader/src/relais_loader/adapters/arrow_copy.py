"""A table's rows, as the transformer stored them (an Arrow IPC file), into PostgreSQL by binary COPY.

No Python object per row or per value: each Arrow record batch is cast to the column types of the table it goes to
(read from the catalogue, `TableShape`) and encoded by pgpq into PostgreSQL's binary COPY format, one slice of at
most 50k rows at a time, read from disk when its turn comes: the loader's memory depends on the slice size, never on
the file. Encoding runs in a worker thread (the event loop keeps the Kafka consumer's heartbeats going) while
PostgreSQL takes the previous slice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pgpq
import pyarrow as pa
import pyarrow.ipc

SLICE_ROWS = 50_000

# information_schema.columns.data_type → the Arrow type pgpq encodes as that PostgreSQL type.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "double precision": pa.float64(),
    "real": pa.float32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "smallint": pa.int16(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
}


@dataclass(frozen=True, slots=True)
class TableShape:
    """A table as the catalogue describes it: its primary key and each column's type."""

    name: str
    key: tuple[str, ...]
    types: dict[str, str]

    def arrow_schema(self, columns: list[str]) -> pa.Schema:
        """The Arrow types `columns` must have to be copied into this table; KeyError naming what cannot be."""
        fields = []
        for column in columns:
            if column not in self.types:
                raise KeyError(f"la table {self.name} n'a pas de colonne {column!r}")
            arrow = _ARROW_TYPES.get(self.types[column])
            if arrow is None:
                raise KeyError(
                    f"{self.name}.{column} : type {self.types[column]} non pris en charge par la copie"
                )
            fields.append(pa.field(column, arrow))
        return pa.schema(fields)


async def table_shape(conn: asyncpg.Connection, table: str) -> TableShape:
    types = {
        r["column_name"]: r["data_type"]
        for r in await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
    }
    if not types:
        raise KeyError(f"table inconnue : {table}")
    key = tuple(
        r["attname"]
        for r in await conn.fetch(
            """SELECT a.attname FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)""",
            table,
        )
    )
    return TableShape(table, key, types)


class ArrowRows:
    """An Arrow IPC file of rows, read one record batch at a time (the transformer writes batches of 50k rows), so
    that only the slice being encoded is in memory."""

    def __init__(self, path: Path) -> None:
        self._reader = pyarrow.ipc.open_file(pa.OSFile(str(path), "rb"))

    @property
    def count(self) -> int:
        counted: int = self._reader.count_rows()
        return counted

    @property
    def columns(self) -> list[str]:
        return list(self._reader.schema.names)

    def slices(self) -> Iterator[pa.RecordBatch]:
        for i in range(self._reader.num_record_batches):
            batch = self._reader.get_batch(i)
            for offset in range(0, batch.num_rows, SLICE_ROWS):
                yield batch.slice(offset, SLICE_ROWS)


def _encode(encoder: pgpq.ArrowToPostgresBinaryEncoder, batch: pa.RecordBatch, schema: pa.Schema) -> bytes:
    encoded: bytes = encoder.write_batch(batch.select(schema.names).cast(schema))
    return encoded


async def copy_rows(conn: asyncpg.Connection, rows: ArrowRows, target: str, shape: TableShape) -> int:
    """COPY every row into `target` (the table of `shape`, or a table like it), columns as the file names them;
    returns the number of rows copied."""
    columns = rows.columns
    schema = shape.arrow_schema(columns)
    encoder = pgpq.ArrowToPostgresBinaryEncoder(schema)
    copied = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal copied
        yield encoder.write_header()
        for part in rows.slices():
            copied += part.num_rows
            yield await asyncio.to_thread(_encode, encoder, part, schema)
        yield encoder.finish()

    await conn.copy_to_table(target, source=stream(), columns=columns, format="binary")
    return copied
