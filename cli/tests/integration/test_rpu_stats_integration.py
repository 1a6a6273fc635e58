"""`relais rpu stats` on a regional database filled by the real integration: counts match the generator's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from typer.testing import CliRunner

from relais_cli.rpu import rpu_app
from relais_contracts import RpuFileIntegrated, RpuFileReceived, RpuFileRejected
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.model import RpuHeader
from relais_rpu_concentrator.adapters.fs_receipts import FileSystemReceipts
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.integration.use_case import FileSettlement, RpuIntegration
from relais_synthetic.rpu import day_records, synthetic_region, write_days


@dataclass
class Events:
    seen: list[object] = field(default_factory=list)

    async def integrated(self, event: RpuFileIntegrated) -> None:
        self.seen.append(event)

    async def rejected(self, event: RpuFileRejected) -> None:
        self.seen.append(event)


async def test_stats_count_files_and_rpu_per_establishment_and_day(
    database_url: str, tmp_path: Path, unique: str
) -> None:
    region = synthetic_region(int(unique, 16) % 999_983, 1, invalid_rate=0.0)
    est = region.establishments[0]
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        integration = RpuIntegration(
            settlement=FileSettlement(store=PostgresPassageStore(pool), blobs=blobs),
            receipts=FileSystemReceipts(tmp_path / "intake"),
            events=Events(),
        )
        for n, (first, last) in enumerate(
            [(date(2026, 9, 1), date(2026, 9, 7)), (date(2026, 9, 3), date(2026, 9, 9))]
        ):
            path = tmp_path / f"RPU_{n}.xml"
            write_days(
                path,
                region,
                est,
                first,
                last,
                RpuHeader(est.finess, "0", datetime(2026, 9, 10 + n, 3), first, last),
            )
            ref = blobs.put_file(path)
            await integration.integrate(
                RpuFileReceived(
                    finess=est.finess, account=est.finess, file_name=path.name, file_id=ref.sha256, blob=ref,
                    received_at=datetime(2026, 9, 10 + n, 2, tzinfo=UTC),
                )
            )  # fmt: skip
    finally:
        await pool.close()

    result = await asyncio.to_thread(
        CliRunner().invoke,
        rpu_app,
        ["stats", "--month", "2026-09", "--daily"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    expected = {
        date(2026, 9, 1) + timedelta(days=d): len(
            day_records(region, est, date(2026, 9, 1) + timedelta(days=d))
        )
        for d in range(9)
    }
    [summary, daily] = [line.split() for line in result.output.splitlines() if line.startswith(est.finess)]
    assert summary[:3] == [est.finess, "2", "2"]  # two files received, both integrated
    assert "".join(summary[5:-2]) == str(sum(expected.values())) and summary[-2] == "9/30"
    assert [cell.rstrip("!") for cell in daily[1:10]] == [str(expected[day]) for day in sorted(expected)]
    assert daily[10:] == ["-"] * 21
