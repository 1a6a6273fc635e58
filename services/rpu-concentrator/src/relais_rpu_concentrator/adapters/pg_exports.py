"""What the onward exports read from the regional database (migrations 0021, 0023).

- `PostgresExportSource` (ports `ExportSource`, `RegionalPassages`): establishments whose files were integrated in a window, and an
  establishment's current passages for some days, streamed through a server-side cursor (bounded memory).
- `PostgresDailyCounts` (port `DailyCounts`): per establishment, files received per local day, passages per day
  (rpu_day, "sent and empty" counts 0) and its last file, for the absence check.
- `record_trace_parent`: the integration consumer's traceparent on the file's ledger row.

Adapters take a pool *provider* (`lambda: db.pool`): the composition root wires them before the lifespan opens
the pool.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from relais_rpu.model import Passage
from relais_rpu.write import escape as xml_escape
from relais_rpu_concentrator.outbound.absence import EstablishmentActivity, LastFile
from relais_rpu_concentrator.outbound.ports import ChangedEstablishment

PoolProvider = Callable[[], asyncpg.Pool]
ZONE = "Europe/Paris"  # reception days are counted in the establishments' local time
PREFETCH = 5000  # rows per round trip of the server-side cursor

# A file's days_replaced are the days it won; a file that replaced nothing (superseded) is not "changed".
_CHANGED = """
    SELECT f.finess, min(d.day) AS first_day, max(d.day) AS last_day,
           coalesce(array_agg(DISTINCT f.traceparent) FILTER (WHERE f.traceparent IS NOT NULL), '{}') AS parents
    FROM rpu_file f CROSS JOIN LATERAL unnest(f.days_replaced) AS d(day)
    WHERE f.status = 'integrated' AND f.processed_at >= $1 AND f.processed_at < $2
    GROUP BY f.finess ORDER BY f.finess
"""

# The primary key's order: one index range per establishment, deterministic output.
PASSAGE_SELECT = """
    SELECT entree, cp, commune, naissance, sexe, mode_entree, provenance, transport, transport_pec, motif, gravite,
           dp, da, actes, sortie, mode_sortie, destination, orient, extras, unparsed, record_number
    FROM rpu_passage WHERE finess = $1 AND day >= $2 AND day <= $3
    ORDER BY day, file_id, record_number
"""


def _rpu_datetime(column: str) -> str:
    # The RPU's text form, seconds only when not zero (as relais_rpu.dates.format_datetime writes them).
    return (
        f"CASE WHEN {column} IS NULL THEN '' WHEN date_part('second', {column}) = 0 "
        f"THEN to_char({column}, 'DD/MM/YYYY HH24:MI') ELSE to_char({column}, 'DD/MM/YYYY HH24:MI:SS') END"
    )


# relais_rpu.atih.ATIH_TEXT_FIELDS, formatted by PostgreSQL (its own process: formatting runs beside the writer)
# and streamed by COPY, several times cheaper than decoding typed rows into objects. AGE as age_at_entry counts it.
ATIH_COPY = f"""
    SELECT {_rpu_datetime("entree")}, coalesce(cp, ''),
           coalesce((date_part('year', entree) - date_part('year', naissance)
                     - (to_char(entree, 'MMDD') < to_char(naissance, 'MMDD'))::int)::int::text, ''),
           coalesce(sexe, ''), coalesce(mode_entree, ''), coalesce(provenance, ''), coalesce(transport, ''),
           coalesce(transport_pec, ''), coalesce(motif, ''), coalesce(gravite, ''), coalesce(dp, ''),
           array_to_string(da, E'\\x1f'), array_to_string(actes, E'\\x1f'), {_rpu_datetime("sortie")},
           coalesce(mode_sortie, ''), coalesce(destination, ''), coalesce(orient, '')
    FROM rpu_passage WHERE finess = $1 AND day >= $2 AND day <= $3
    ORDER BY day, file_id, record_number
"""
_COPY_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r", "\\b": "\b", "\\f": "\f", "\\v": "\v"}


def _copy_unescape(field: str) -> str:
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        pair = field[i : i + 2]
        if pair in _COPY_ESCAPES:
            out.append(_COPY_ESCAPES[pair])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def copy_text_rows(text: str) -> list[list[str]]:
    """Lines of COPY's text format (no NULLs: the query coalesces) → fields, unescaped and XML-escaped."""
    lines = text.split("\n")
    if "&" not in text and "<" not in text and ">" not in text and "\\" not in text:
        return [line.split("\t") for line in lines]  # nearly every batch: codes and dates only
    rows = []
    for line in lines:
        if "&" in line or "<" in line or ">" in line:
            line = xml_escape(line)
        fields = line.split("\t")
        if "\\" in line:
            fields = [_copy_unescape(f) for f in fields]
        rows.append(fields)
    return rows


def _pairs(value: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((tag, text) for tag, text in json.loads(value)) if value else ()


def passage_of(row: Any) -> Passage:
    """A row of PASSAGE_SELECT as the model the OSCOUR writer takes."""
    (entree, cp, commune, naissance, sexe, mode_entree, provenance, transport, transport_pec, motif, gravite,
     dp, da, actes, sortie, mode_sortie, destination, orient, extras, unparsed, number) = row  # fmt: skip
    return Passage(
        entree, cp, commune, naissance, sexe, mode_entree, provenance, transport, transport_pec, motif, gravite,
        dp, tuple(da), tuple(actes), sortie, mode_sortie, destination, orient, _pairs(extras), _pairs(unparsed),
        number,
    )  # fmt: skip


class PostgresExportSource:
    def __init__(self, pool: PoolProvider, *, prefetch: int = PREFETCH) -> None:
        self._pool = pool
        self._prefetch = prefetch

    async def changed(self, since: datetime, until: datetime) -> list[ChangedEstablishment]:
        rows = await self._pool().fetch(_CHANGED, since, until)
        return [
            ChangedEstablishment(r["finess"], r["first_day"], r["last_day"], tuple(sorted(r["parents"])))
            for r in rows
        ]

    async def passages(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[Passage]:
        async for batch in self.batches(finess, first_day, last_day):
            for passage in batch:
                yield passage

    async def establishments(self, first_day: date, last_day: date) -> list[str]:
        rows = await self._pool().fetch(
            "SELECT DISTINCT finess FROM rpu_day WHERE day >= $1 AND day <= $2 ORDER BY finess",
            first_day,
            last_day,
        )
        return [r["finess"] for r in rows]

    async def trace_parents(self, finess: str, first_day: date, last_day: date) -> tuple[str, ...]:
        rows = await self._pool().fetch(
            """SELECT traceparent FROM rpu_file
               WHERE finess = $1 AND status = 'integrated' AND traceparent IS NOT NULL
                 AND first_day <= $3 AND last_day >= $2
               ORDER BY processed_at""",
            finess,
            first_day,
            last_day,
        )
        return tuple(r["traceparent"] for r in rows)

    async def atih_rows(
        self, finess: str, first_day: date, last_day: date, consume: Callable[[list[list[str]]], object]
    ) -> None:
        tail = b""

        async def chunk(data: bytes) -> None:
            nonlocal tail
            data = tail + data
            cut = data.rfind(b"\n")
            if cut < 0:
                tail = data
                return
            tail = data[cut + 1 :]
            consume(copy_text_rows(data[:cut].decode("utf-8")))

        async with self._pool().acquire() as conn:
            await conn.copy_from_query(ATIH_COPY, finess, first_day, last_day, output=chunk)
        if tail:
            consume(copy_text_rows(tail.decode("utf-8").removesuffix("\n")))

    async def batches(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[list[Passage]]:
        """`prefetch` rows per fetch from a server-side cursor, in one read-only transaction (one snapshot)."""
        async with (
            self._pool().acquire() as conn,
            conn.transaction(readonly=True, isolation="repeatable_read"),
        ):
            cursor = await conn.cursor(PASSAGE_SELECT, finess, first_day, last_day)
            while rows := await cursor.fetch(self._prefetch):
                yield [passage_of(row) for row in rows]


_FILES_PER_DAY = f"""
    SELECT finess, (received_at AT TIME ZONE '{ZONE}')::date AS day, count(*)::int AS n FROM rpu_file
    WHERE finess = ANY($1) AND status <> 'rejected'
      AND received_at >= ($2::date::timestamp AT TIME ZONE '{ZONE}')
      AND received_at < ($3::date::timestamp AT TIME ZONE '{ZONE}')
    GROUP BY 1, 2
"""
_PASSAGES_PER_DAY = (
    "SELECT finess, day, passages FROM rpu_day WHERE finess = ANY($1) AND day >= $2 AND day <= $3"
)
_LAST_FILE = f"""
    SELECT DISTINCT ON (finess) finess, file_name, received_at, traceparent FROM rpu_file
    WHERE finess = ANY($1) AND received_at < ($2::date::timestamp AT TIME ZONE '{ZONE}')
    ORDER BY finess, received_at DESC
"""


class PostgresDailyCounts:
    """Files count on their reception day in local time; a rejected file is not a transmission (its passages are
    not in the regional database), so a day with only rejected files still gets its alert."""

    def __init__(self, pool: PoolProvider) -> None:
        self._pool = pool

    async def activity(
        self, finess: Sequence[str], first_day: date, last_day: date
    ) -> Mapping[str, EstablishmentActivity]:
        wanted, after = list(finess), last_day + timedelta(days=1)
        files: dict[str, dict[date, int]] = defaultdict(dict)
        passages: dict[str, dict[date, int]] = defaultdict(dict)
        last: dict[str, LastFile] = {}
        async with self._pool().acquire() as conn:
            for r in await conn.fetch(_FILES_PER_DAY, wanted, first_day, after):
                files[r["finess"]][r["day"]] = r["n"]
            for r in await conn.fetch(_PASSAGES_PER_DAY, wanted, first_day, last_day):
                passages[r["finess"]][r["day"]] = r["passages"]
            for r in await conn.fetch(_LAST_FILE, wanted, after):
                last[r["finess"]] = LastFile(r["file_name"], r["received_at"], r["traceparent"])
        return {
            f: EstablishmentActivity(files.get(f, {}), passages.get(f, {}), last.get(f))
            for f in wanted
            if f in files or f in passages or f in last
        }


async def record_trace_parent(pool: asyncpg.Pool, finess: str, file_id: str, trace_parent: str) -> None:
    """Keep the first trace that integrated the file (a redelivery runs in another trace: the first one is where
    the file's reception and integration are)."""
    await pool.execute(
        "UPDATE rpu_file SET traceparent = $3 WHERE finess = $1 AND file_id = $2 AND traceparent IS NULL",
        finess,
        file_id,
        trace_parent,
    )
