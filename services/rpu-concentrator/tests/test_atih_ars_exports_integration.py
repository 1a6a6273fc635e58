"""The monthly ATIH export and the daily ARS export on files integrated by the real integration into PostgreSQL,
delivered through the real delivery ledger to a recording destination: ATIH files anonymised and cumulative
(1 January → end of M, nothing of M+1 nor of the year before), counts per FINESS and month equal to the regional
database; ARS extract identical in CSV and Parquet, with the transmission statistics; a second run sends nothing."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from pathlib import Path

import asyncpg
import pyarrow.parquet as pq
import pytest
from lxml import etree
from opentelemetry.sdk.trace import TracerProvider

from relais_contracts import RpuFileReceived
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.geo import PmsiGeoCodes
from relais_rpu_concentrator.adapters.pg_exports import PostgresExportSource
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.integration.use_case import FileSettlement, RpuIntegration
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.ars_export import COLUMNS, ArsDailyExport
from relais_rpu_concentrator.outbound.atih_export import AtihMonthlyExport, file_name
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.model import PlannedFile

from .conftest import FakeEvents, FakeReceipts, Sent, at, small_establishment

pytestmark = pytest.mark.integration

SEPTEMBER = date(2026, 9, 1)


@dataclass
class Recording:
    name: str
    files: dict[str, bytes] = field(default_factory=dict)
    sends: list[str] = field(default_factory=list)

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        self.sends.append(file.name)
        self.files[file.name] = content.read_bytes()


@dataclass
class World:
    pool: asyncpg.Pool
    blobs: FileSystemBlobStore
    tmp: Path
    destination: Recording
    delivery: ExportDelivery
    ledger: PostgresDeliveryLedger

    async def integrate(self, seed: int, *sent: Sent) -> str:
        base, est = small_establishment(seed)
        integration = RpuIntegration(
            settlement=FileSettlement(store=PostgresPassageStore(self.pool), blobs=self.blobs),
            receipts=FakeReceipts(),
            events=FakeEvents(),
        )
        for s in sent:
            path = s.write(base, est, self.tmp / "files")
            ref = self.blobs.put_file(path, "application/xml")
            await integration.integrate(
                RpuFileReceived(
                    finess=est.finess,
                    account=est.finess,
                    file_name=path.name,
                    file_id=ref.sha256,
                    blob=ref,
                    received_at=s.extract.replace(tzinfo=UTC),
                )
            )
        return est.finess

    async def held(self, finess: str, first: date, last: date) -> Counter[int]:
        rows = await self.pool.fetch(
            "SELECT extract(month FROM day)::int AS m, count(*)::int AS n FROM rpu_passage "
            "WHERE finess = $1 AND day >= $2 AND day <= $3 GROUP BY 1",
            finess, first, last,
        )  # fmt: skip
        return Counter({r["m"]: r["n"] for r in rows})


@pytest.fixture
async def world(database_url: str, tmp_path: Path, unique: str) -> AsyncIterator[World]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    destination = Recording(f"recording-{unique}")
    ledger = PostgresDeliveryLedger(pool)
    delivery = ExportDelivery(
        ledger=ledger, blobs=blobs, destinations={destination.name: destination},
        tracer=TracerProvider().get_tracer("test"),
    )  # fmt: skip
    try:
        yield World(pool, blobs, tmp_path, destination, delivery, ledger)
    finally:
        await pool.close()


def month_file(version: int, first: date, last: date) -> Sent:
    """A catch-up file: one month, DATEDEBUT/DATEFIN = its bounds."""
    return Sent(version, first, last, at(last + timedelta(days=20)))


async def test_atih_cumulative_export_is_anonymised_and_its_counts_match_the_regional_database(
    world: World, unique: str
) -> None:
    seed = int(unique, 16) % 1_000_003
    a = await world.integrate(
        seed,
        Sent(1, date(2025, 12, 28), date(2025, 12, 31), at(date(2026, 1, 1))),  # the previous year
        month_file(2, date(2026, 2, 1), date(2026, 2, 28)),
        Sent(3, date(2026, 9, 24), date(2026, 10, 2), at(date(2026, 10, 3))),  # straddles the end of M
    )
    b = await world.integrate(seed + 1, Sent(1, date(2026, 9, 1), date(2026, 9, 7), at(date(2026, 9, 8))))
    export = AtihMonthlyExport(
        source=PostgresExportSource(lambda: world.pool, prefetch=50), blobs=world.blobs, delivery=world.delivery,
        ledger=world.ledger, destination=world.destination.name, tracer=TracerProvider().get_tracer("t"),
        geo_code=PmsiGeoCodes(),
    )  # fmt: skip
    report = await export.run(SEPTEMBER)
    assert report.complete
    files = world.destination.files
    manifest = json.loads(files["atih-2026-09.manifest.json"])
    counts = list(csv.reader(io.StringIO(files["atih-2026-09.counts.csv"].decode()), delimiter=";"))
    assert counts[0] == ["finess", "month", "rpu"]
    for finess in (a, b):
        held = await world.held(finess, date(2026, 1, 1), date(2026, 9, 30))
        assert held and sum(held.values()) > 0
        root = etree.fromstring(files[file_name(finess, SEPTEMBER)])
        assert root.findtext("ETABLISSEMENT/DATEDEBUT") == "01/01/2026"
        assert root.findtext("ETABLISSEMENT/DATEFIN") == "30/09/2026"
        patients = root.findall(".//PATIENT")
        assert len(patients) == sum(held.values()) == manifest["rpu_per_finess"][finess]
        assert Counter(int(p.findtext("ENTREE")[3:5]) for p in patients) == held
        assert {r[1]: int(r[2]) for r in counts if r[0] == finess} == {
            **{f"{m:02d}": n for m, n in held.items()},
            "TOTAL": sum(held.values()),
        }
        for p in patients:
            tags = {child.tag for child in p}
            assert not tags & {"CP", "COMMUNE", "NAISSANCE", "HMED", "CIRCONSTANCE"}
            assert len(p.findtext("CODE_GEO")) == 5
    # Ages: computed from the birth dates the regional database holds.
    births = await world.pool.fetch(
        "SELECT entree, naissance FROM rpu_passage WHERE finess = $1 AND day >= '2026-01-01' AND day <= '2026-09-30'"
        " ORDER BY day, file_id, record_number",
        a,
    )
    ages = [
        p.findtext("AGE") or None
        for p in etree.fromstring(files[file_name(a, SEPTEMBER)]).findall(".//PATIENT")
    ]
    expected = [
        str(r["entree"].year - r["naissance"].year - ((r["entree"].month, r["entree"].day) < (r["naissance"].month, r["naissance"].day)))
        if r["naissance"] else None
        for r in births
    ]  # fmt: skip
    assert ages == expected

    world.destination.sends.clear()
    again = await export.run(SEPTEMBER)
    assert again.delivered == [] and world.destination.sends == []  # planned once, delivered once


async def test_ars_daily_extract_is_the_same_in_csv_and_parquet_with_transmission_statistics(
    world: World, unique: str
) -> None:
    seed = int(unique, 16) % 1_000_003 + 11
    finess = await world.integrate(
        seed,
        month_file(1, date(2026, 8, 1), date(2026, 8, 31)),
        Sent(2, date(2026, 9, 3), date(2026, 9, 9), at(date(2026, 9, 10))),
        Sent(3, date(2026, 9, 20), date(2026, 9, 22), at(date(2026, 9, 23))),  # after D−1: not in the extract
    )
    export = ArsDailyExport(
        pool=lambda: world.pool, blobs=world.blobs, delivery=world.delivery, ledger=world.ledger,
        destination=world.destination.name, tracer=TracerProvider().get_tracer("t"), batch_rows=40,
    )  # fmt: skip
    day = date(2026, 9, 12)
    assert (await export.run(day)).complete
    files = world.destination.files
    table = pq.read_table(io.BytesIO(files["rpu_ars_20260912.parquet"]))
    assert table.column_names == [c for c, _, _ in COLUMNS]
    mine = [r for r in table.to_pylist() if r["finess"] == finess]
    held = await world.held(finess, date(2026, 1, 1), date(2026, 9, 11))
    assert len(mine) == sum(held.values()) and max(r["day"] for r in mine) <= date(2026, 9, 11)
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(files["rpu_ars_20260912.csv.gz"]).decode())))
    assert list(rows[0]) == [c for c, _, _ in COLUMNS]
    from_csv = [
        (r["entree"], r["dp"], r["da"], int(r["record_number"])) for r in rows if r["finess"] == finess
    ]
    from_parquet = [
        (f"{r['entree']:%Y-%m-%d %H:%M:%S}", r["dp"] or "", r["da"] or "", r["record_number"]) for r in mine
    ]
    assert from_csv == from_parquet
    manifest = json.loads(files["ars-2026-09-12.manifest.json"])
    assert manifest["rpu_per_finess"][finess] == len(mine)
    stats = list(csv.DictReader(io.StringIO(files["rpu_ars_20260912_stats.csv"].decode())))
    by_month = {r["month"]: r for r in stats if r["finess"] == finess}
    assert int(by_month["2026-08"]["rpu"]) == held[8] and int(by_month["2026-08"]["days_transmitted"]) == 31
    assert {m for m in by_month} >= {"2026-08", "2026-09"}
    assert (await export.run(day)).delivered == []


async def test_atih_text_rows_from_postgres_equal_the_python_rendering_of_the_stored_passages(
    world: World, unique: str
) -> None:
    from datetime import datetime

    from relais_rpu.atih import atih_text_fields
    from relais_rpu_concentrator.adapters.pg_exports import PASSAGE_SELECT, passage_of

    finess = await world.integrate(
        int(unique, 16) % 1_000_003 + 5, Sent(1, date(2026, 3, 1), date(2026, 3, 3), at(date(2026, 3, 4)))
    )
    # Text that needs both COPY's and XML's escaping, seconds, and a birth date after ENTREE (bad data kept).
    await world.pool.execute(
        """INSERT INTO rpu_passage (finess, day, file_id, record_number, entree, sortie, motif, naissance, da)
           VALUES ($1, '2026-03-02', $2, 999, $3, $4, $5, '2026-03-09', '{I10,E119}')""",
        finess, "e" * 64, datetime(2026, 3, 2, 10, 5, 7), datetime(2026, 3, 2, 12, 0),
        "chute\tà la maison & <escalier> \\ dos\nsuite",
    )  # fmt: skip
    await world.pool.execute(  # rpu_day's count follows, as the integration keeps it
        "UPDATE rpu_day SET passages = passages + 1 WHERE finess = $1 AND day = '2026-03-02'", finess
    )
    source = PostgresExportSource(lambda: world.pool)
    streamed: list[list[str]] = []
    await source.atih_rows(finess, date(2026, 1, 1), date(2026, 3, 31), streamed.extend)
    rows = await world.pool.fetch(PASSAGE_SELECT, finess, date(2026, 1, 1), date(2026, 3, 31))
    assert len(streamed) == len(rows) > 10
    assert streamed == [atih_text_fields(passage_of(r)) for r in rows]
