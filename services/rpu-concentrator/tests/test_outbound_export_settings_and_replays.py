"""ATIH and ARS destinations read their own variables (never the SPF ones), every job is off by default, and the
daily SPF export's replay hook (PostgreSQL delivery ledger, fake source and replay desk): pending replays join the
export of the run's own day only — not the catch-up of missed days built before it — and are then marked sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.model import Passage
from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.model import PlannedFile
from relais_rpu_concentrator.outbound.ports import ChangedEstablishment
from relais_rpu_concentrator.outbound.settings import OutboundSettings
from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport
from relais_rpu_concentrator.outbound.wiring import spf_destination
from relais_rpu_concentrator.replay.model import Period, ReplayRequest, ReplayState
from relais_rpu_concentrator.settings import ConcentratorSettings

PARIS = ZoneInfo("Europe/Paris")


def test_atih_and_ars_read_their_own_prefixes_and_everything_is_off_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = ConcentratorSettings().outbound
    assert not (
        defaults.spf.enabled or defaults.alert.enabled or defaults.atih.enabled or defaults.ars.enabled
    )
    for name, value in {
        "RELAIS_RPU_ATIH_ENABLED": "true",
        "RELAIS_RPU_ATIH_TRANSPORT": "https",
        "RELAIS_RPU_ATIH_HTTP_URL": "https://syrius.atih.invalid/depot",
        "RELAIS_RPU_ATIH_DAY_OF_MONTH": "10",
        "RELAIS_RPU_ARS_SFTP_HOST": "sftp.ars.invalid",
        "RELAIS_RPU_ARS_AT": "06:30",
        "RELAIS_RPU_SPF_SFTP_HOST": "sftp.santepubliquefrance.invalid",
    }.items():
        monkeypatch.setenv(name, value)
    settings = OutboundSettings()
    assert settings.atih.enabled and settings.atih.day_of_month == 10 and settings.atih.destination == "atih"
    assert isinstance(spf_destination(settings.atih), HttpsPost)
    assert settings.atih.http.url == "https://syrius.atih.invalid/depot"
    assert settings.ars.at == time(6, 30) and settings.ars.destination == "ars"
    assert isinstance(spf_destination(settings.ars), SftpPush)
    assert settings.ars.sftp.host == "sftp.ars.invalid" and settings.atih.sftp.host == "127.0.0.1"
    assert settings.spf.sftp.host == "sftp.santepubliquefrance.invalid" and not settings.spf.enabled


@dataclass
class Quiet:
    """ExportSource where nothing was integrated: only replays make files."""

    async def changed(self, since: datetime, until: datetime) -> list[ChangedEstablishment]:
        return []

    async def passages(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[Passage]:
        for n in range((last_day - first_day).days + 1):
            yield Passage(entree=datetime.combine(first_day + timedelta(days=n), time(9)))


@dataclass
class Desk:
    pending: list[ReplayRequest]
    asked: int = 0
    sent: list[tuple[str, list[int]]] = field(default_factory=list)

    async def pending_periods(self) -> list[ReplayRequest]:
        self.asked += 1
        return [r for r in self.pending if r.request_id not in {i for _, ids in self.sent for i in ids}]

    async def mark_sent(self, export_id: str, request_ids: Sequence[int]) -> None:
        self.sent.append((export_id, list(request_ids)))


@dataclass
class Recording:
    name: str
    files: list[str] = field(default_factory=list)

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        self.files.append(f"{export_id}/{file.name}")


@pytest.mark.integration
async def test_pending_replays_join_the_export_of_the_day_only_and_are_marked_sent_once(
    database_url: str, tmp_path: Path, unique: str
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    request = ReplayRequest(
        request_id=7, period=Period("670780055", date(2026, 3, 2), date(2026, 3, 12)), needed=True, reason="",
        missing_days=(), state=ReplayState.DATA_RECEIVED, requested_by="ars", requested_at=datetime.now(UTC),
    )  # fmt: skip
    desk = Desk([request])
    destination = Recording(f"spf-replays-{unique}")
    ledger = PostgresDeliveryLedger(pool)
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    tracer = TracerProvider().get_tracer("t")
    export = SpfDailyExport(
        source=Quiet(), blobs=blobs, ledger=ledger, destination=destination.name, tracer=tracer, at=time(4),
        zone=PARIS, replays=desk,
        delivery=ExportDelivery(ledger=ledger, blobs=blobs, destinations={destination.name: destination}, tracer=tracer),
    )  # fmt: skip
    try:
        await export.run(date(2026, 4, 1))  # the first export: nothing pending yet... but the replay is
        await export.run(date(2026, 4, 4))  # catches up 2 and 3 April, then 4 April
    finally:
        await pool.close()
    assert destination.files == [
        "spf-2026-04-01/RPU_670780055_20260401.xml",
        "spf-2026-04-01/spf-2026-04-01.manifest.json",
        "spf-2026-04-02/spf-2026-04-02.manifest.json",
        "spf-2026-04-03/spf-2026-04-03.manifest.json",
        "spf-2026-04-04/spf-2026-04-04.manifest.json",
    ]
    assert desk.sent == [("spf-2026-04-01", [7])]
    assert desk.asked == 2  # once per run, for the run's own day
