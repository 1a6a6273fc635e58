"""`relais rpu replay` and `relais rpu transition` on a regional database whose 0021 tables are filled directly."""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from datetime import date, timedelta

import asyncpg
from typer.testing import CliRunner

from relais_cli.rpu import rpu_app
from relais_synthetic.finess import random_finess


def a_finess() -> str:
    return random_finess(random.Random(uuid.uuid4().int))


async def hold(db: asyncpg.Connection, finess: str, daily: dict[date, int]) -> None:
    file_id = uuid.uuid4().hex * 2
    await db.execute(
        """INSERT INTO rpu_file (file_id, finess, account, file_name, status, blob_sha256, blob_size,
               blob_media_type, received_at)
           VALUES ($1, $2, $3, 'RPU.xml', 'integrated', $1, 1, 'application/xml', now())""",
        file_id, finess, finess,
    )  # fmt: skip
    await db.executemany(
        "INSERT INTO rpu_day (finess, day, file_id, extract, received_at, passages) VALUES ($1, $2, $3, now(), now(), $4)",
        [(finess, day, file_id, n) for day, n in daily.items()],
    )


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(
        CliRunner().invoke, rpu_app, list(args), env={"DATABASE_URL": database_url}
    )
    return result.exit_code, result.output


async def test_replay_request_list_and_show_with_its_audit_trail(
    database_url: str, db: asyncpg.Connection
) -> None:
    finess = a_finess()
    await hold(db, finess, {date(2026, 3, 1): 40, date(2026, 3, 2): 41})
    request = [
        "replay",
        "request",
        "--finess",
        finess,
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--by",
        "ars.martin",
    ]

    code, out = await cli(database_url, *request)
    assert code == 0, out
    match = re.match(r"demande (\d+) enregistrée — état requested\n", out)
    assert match, out
    assert "reprise nécessaire : 29 jour(s) manquant(s)" in out
    request_id = match.group(1)

    code, again = await cli(database_url, *request[:-1], "ars.durand")
    assert code == 0 and f"demande {request_id} déjà enregistrée (inchangée) — état requested" in again

    code, listed = await cli(database_url, "replay", "list", "--open")
    assert code == 0 and len([line for line in listed.splitlines() if finess in line]) == 1

    code, shown = await cli(database_url, "replay", "show", request_id)
    assert code == 0, shown
    trail = shown.split("journal :")[1].strip().splitlines()
    assert len(trail) == 1 and "ars.martin" in trail[0] and "requested" in trail[0]

    code, refused = await cli(database_url, "replay", "request", "--finess", "123456789", "--from", "2026-03-01",
                              "--to", "2026-03-02", "--by", "ars.martin")  # fmt: skip
    assert code == 1 and "FINESS '123456789' invalide" in refused
    assert (await cli(database_url, "replay", "show", "999999999"))[0] == 1


async def test_transition_counts_consecutive_correct_days_per_establishment(
    database_url: str, db: asyncpg.Connection
) -> None:
    as_of = date(2026, 6, 30)
    steady = {as_of - timedelta(days=i): 100 + i % 7 for i in range(30)}
    ready, suspicious, gap = a_finess(), a_finess(), a_finess()
    await hold(db, ready, steady)
    await hold(db, suspicious, {**steady, as_of - timedelta(days=3): 2})
    await hold(db, gap, {d: n for d, n in steady.items() if d != as_of - timedelta(days=5)})

    code, out = await cli(database_url, "transition", "--as-of", as_of.isoformat())
    assert code == 0, out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:9] in {ready, suspicious, gap}}
    assert rows[ready].split()[1:4] == ["30", "01/06/2026", "oui"]
    assert rows[suspicious].split()[1:4] == ["3", "28/06/2026", "non"]
    assert "27/06/2026 : volume suspect (2 RPU" in rows[suspicious]
    assert rows[gap].split()[1:4] == ["5", "26/06/2026", "non"]
    assert "25/06/2026 : aucun fichier intégré" in rows[gap]
