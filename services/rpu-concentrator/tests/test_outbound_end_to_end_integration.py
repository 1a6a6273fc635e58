"""Issue 5's scenario on the real stack: the concentrator as a separate process (real Kafka, PostgreSQL, SFTP
intake), establishments pushing over SFTP, Santé publique France and ATIH as a real local HTTP receiver, the ARS's
mailbox as a real local SMTP server (aiosmtpd), the replay requested with the operator CLI.

Three establishments push their rolling 7-day file every night for a week; one (C) stops for 10 days: the absence
check alerts on the first day (one mail, one Kafka event, in the trace of C's last file) and not again that day;
the ARS requests the replay of C's gap; C re-sends a monthly catch-up file (and its rolling file); the next SPF
export carries exactly the regional database's passages of that period and the replay closes; the ATIH cumulative
export's counts per FINESS equal the regional database's, and so do the next morning's ARS extract's; every
delivery is recorded with the traces of the received files it carries.

Clock: the stack runs in real time; the simulated night of day D is injected where the domain reads it — each
day's files are re-stamped received/processed at 03:10 local of D once integrated (as if pushed then), and the
exports and the absence check are run for D by the same use cases and PostgreSQL adapters the service's jobs use
(they take the day as an argument; the jobs only add "every day at this hour").
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from relais_contracts import RpuAbsenceAlerted, Topic
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics
from relais_rpu.parse import open_rpu
from relais_rpu_concentrator.adapters.pg_exports import PostgresDailyCounts, PostgresExportSource
from relais_rpu_concentrator.adapters.pg_replay import postgres_replays
from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.kafka_alerts import KafkaAlertEvents
from relais_rpu_concentrator.outbound.adapters.pg_alerts import PostgresAlertLedger
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.adapters.pg_establishments import PostgresActiveEstablishments
from relais_rpu_concentrator.outbound.adapters.smtp_mail import SmtpMail
from relais_rpu_concentrator.outbound.alerting import AbsenceCheck
from relais_rpu_concentrator.outbound.ars_export import ArsDailyExport
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.settings import HttpDestinationSettings, SmtpSettings
from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport
from relais_rpu_concentrator.replay.model import ReplayState
from relais_testing.rpu import RpuConcentratorProcess, free_port, processed_files

from .conftest import Sent, fingerprint, rolling, small_establishment

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
D1 = date(2026, 9, 1)  # the first night of the week
STOP = D1 + timedelta(days=7)  # C's first silent day; silent for 10 days
BACK = STOP + timedelta(days=10)  # C's first night back
GAP = (D1 + timedelta(days=6), BACK - timedelta(days=1))  # days C's files never covered: its last covered J−1


@dataclass
class Http:
    url: str
    files: dict[str, bytes] = field(default_factory=dict)


@pytest.fixture
def receiver() -> Iterator[Http]:
    http = Http("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            http.files[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield http
    finally:
        server.shutdown()
        server.server_close()


class MailBox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box, port = MailBox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
async def concentrator(
    kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> AsyncIterator[RpuConcentratorProcess]:
    process = RpuConcentratorProcess(tmp_path / "var", kafka_bootstrap, database_url)
    await ensure_topics(kafka_bootstrap, KafkaSettings(namespace=process.namespace).all_topics())
    try:
        await process.start(timeout_s=90)
        yield process
    finally:
        process.stop()


def night(day: date) -> datetime:
    return datetime.combine(day, time(3, 10), tzinfo=PARIS)


async def push_night(
    c: RpuConcentratorProcess, pool: asyncpg.Pool, day: date, files: dict[str, list[Path]]
) -> list[str]:
    """Every establishment pushes its files of the night over SFTP; once integrated, they are stamped as
    received and processed at 03:10 of `day` (the injected clock)."""
    await asyncio.gather(*(c.push_asyncssh(finess, paths) for finess, paths in files.items()))
    ids = [hashlib.sha256(p.read_bytes()).hexdigest() for paths in files.values() for p in paths]
    async with asyncio.timeout(60):
        while len(done := await processed_files(pool, ids)) < len(ids):
            await asyncio.sleep(0.1)
    assert set(done.values()) <= {"integrated", "superseded"}, done
    await pool.execute(
        "UPDATE rpu_file SET received_at = $2, processed_at = $2 WHERE file_id = ANY($1::text[])",
        ids,
        night(day),
    )
    return ids


async def test_a_week_an_interruption_an_alert_a_replay_catch_up_files_and_exports_that_carry_them(
    concentrator: RpuConcentratorProcess,
    database_url: str,
    kafka_bootstrap: str,
    receiver: Http,
    mailbox: tuple[MailBox, int],
    tmp_path: Path,
    unique: str,
) -> None:
    c = concentrator
    seed = int(unique, 16) % 1_000_003
    region = {name: small_establishment(seed + i) for i, name in enumerate("ABC")}
    finess = {name: est.finess for name, (_, est) in region.items()}
    await c.add_establishments(finess.values())
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    tracer = TracerProvider().get_tracer("e2e")
    blobs = FileSystemBlobStore(tmp_path / "exports")
    ledger = PostgresDeliveryLedger(pool)
    spf_destination = HttpsPost(f"spf-{unique}", HttpDestinationSettings(url=f"{receiver.url}/spf"))
    delivery = ExportDelivery(
        ledger=ledger, blobs=blobs, destinations={spf_destination.name: spf_destination}, tracer=tracer
    )
    spf = SpfDailyExport(
        source=PostgresExportSource(lambda: pool), blobs=blobs, delivery=delivery, ledger=ledger,
        destination=spf_destination.name, tracer=tracer, at=time(4), zone=PARIS, replays=postgres_replays(pool),
    )  # fmt: skip
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=c.namespace)
    broker = KafkaBroker(kafka_bootstrap)
    await broker.start()
    box, smtp_port = mailbox
    check = AbsenceCheck(
        establishments=PostgresActiveEstablishments(pool), counts=PostgresDailyCounts(lambda: pool),
        ledger=PostgresAlertLedger(pool), tracer=tracer,
        notifiers=[
            SmtpMail(SmtpSettings(host="127.0.0.1", port=smtp_port, recipients=["veille@ars.invalid"])),
            KafkaAlertEvents(broker, kafka),
        ],
    )  # fmt: skip

    def write(name: str, sent: Sent) -> Path:
        base, est = region[name]
        return sent.write(base, est, tmp_path / "files" / name)

    try:
        # A week: every establishment pushes J−7..J−1 every night; export at 04:00, check at 14:00.
        for n in range(7):
            day = D1 + timedelta(days=n)
            await push_night(c, pool, day, {finess[x]: [write(x, rolling(10 + n, day))] for x in "ABC"})
            assert (await spf.run(day)).complete
            report = await check.run(day)
            # Nobody is absent (at ~5 passages a day, a "volume" alert on a quiet day is the rule working).
            assert not [
                a for a in report.alerts if a.finess in finess.values() and a.reason.value == "absence"
            ]
        assert f"/spf/RPU_{finess['C']}_{D1:%Y%m%d}.xml" in receiver.files

        # C stops. Its first silent day: the alert, once, however often the check runs.
        await push_night(c, pool, STOP, {finess[x]: [write(x, rolling(20, STOP))] for x in "AB"})
        assert (await spf.run(STOP)).complete
        first = await check.run(STOP)
        again = await check.run(STOP)
        assert not [
            a for a in first.new if a.finess in (finess["A"], finess["B"]) and a.reason.value == "absence"
        ]
        [alert] = [a for a in first.new if a.finess == finess["C"]]
        assert alert.reason.value == "absence" and alert.missing_days == (STOP,)
        assert not [a for a in again.new if a.finess in finess.values()]
        [mail] = [
            m for m in box.mails if f"absence de transmission — FINESS {finess['C']}" in str(m["Subject"])
        ]
        assert f"n'a transmis aucun fichier RPU le {STOP:%d/%m/%Y}" in mail.get_content()
        last_trace = await pool.fetchval(
            "SELECT traceparent FROM rpu_file WHERE finess = $1 ORDER BY received_at DESC LIMIT 1",
            finess["C"],
        )
        assert last_trace and alert.last_file is not None and alert.last_file.trace_parent == last_trace
        event = await alert_event(kafka, finess["C"])
        assert (event.day, event.reason, event.missing_days) == (STOP, "absence", [STOP])

        # Ten days later the ARS asks for the replay of the gap (the operator CLI); it is needed (> 7 days).
        answer = cli(
            database_url, "rpu", "replay", "request", "--finess", finess["C"], "--from", GAP[0].isoformat(),
            "--to", GAP[1].isoformat(), "--by", "ars-e2e",
        )  # fmt: skip
        request_id = int(answer.split()[1])
        assert "requested" in answer

        # C comes back: its monthly catch-up file (DATEDEBUT/DATEFIN = the month) and its rolling file.
        catch_up = Sent(30, BACK.replace(day=1), BACK - timedelta(days=1), night(BACK).replace(minute=5, tzinfo=None),
                        window=(BACK.replace(day=1), date(2026, 9, 30)))  # fmt: skip
        await push_night(c, pool, BACK, {finess["C"]: [write("C", catch_up), write("C", rolling(31, BACK))]})
        assert (await spf.run(BACK)).complete

        # The export of that night carries exactly the regional database's passages of the replayed period.
        carried = receiver.files[f"/spf/RPU_{finess['C']}_{BACK:%Y%m%d}.xml"]
        (tmp_path / "carried.xml").write_bytes(carried)
        with open_rpu(tmp_path / "carried.xml") as parsed:
            assert parsed.header.date_debut is not None and parsed.header.date_debut <= GAP[0]
            assert parsed.header.date_fin is not None and parsed.header.date_fin >= GAP[1]
            in_gap = sorted(
                fingerprint(p.entree, p.naissance, p.sexe, p.gravite)
                for p in parsed
                if GAP[0] <= p.entree.date() <= GAP[1]
            )
        held = await pool.fetch(
            "SELECT entree, naissance, sexe, gravite FROM rpu_passage WHERE finess = $1 AND day >= $2 AND day <= $3",
            finess["C"], *GAP,
        )  # fmt: skip
        assert in_gap == sorted(fingerprint(*r) for r in held) and len(in_gap) > 20
        replays = postgres_replays(pool)
        shown = await replays.get(request_id)
        assert shown is not None and shown[0].state is ReplayState.CLOSED
        assert shown[0].export_id == f"spf-{BACK.isoformat()}"
        delivered = await pool.fetchrow(
            "SELECT state, trace_parents FROM rpu_delivery WHERE destination = $1 AND file_name = $2",
            spf_destination.name, f"RPU_{finess['C']}_{BACK:%Y%m%d}.xml",
        )  # fmt: skip
        catch_up_trace = await pool.fetchval(
            "SELECT traceparent FROM rpu_file WHERE finess = $1 AND received_at = $2 AND file_name LIKE '%\\_30.xml'",
            finess["C"], night(BACK),
        )  # fmt: skip
        assert delivered["state"] == "delivered" and catch_up_trace in delivered["trace_parents"]

        # The ATIH cumulative export of September (operator CLI, delivered through the ledger).
        cli(
            database_url, "rpu", "export", "atih", "--month", "2026-09",
            env={"RELAIS_RPU_ATIH_TRANSPORT": "https", "RELAIS_RPU_ATIH_HTTP_URL": f"{receiver.url}/atih",
                 "RELAIS_RPU_ATIH_DESTINATION": f"atih-{unique}", "RELAIS_VAR_DIR": str(tmp_path / "cli")},
        )  # fmt: skip
        counts = receiver.files["/atih/atih-2026-09.counts.csv"].decode().splitlines()
        manifest = json.loads(receiver.files["/atih/atih-2026-09.manifest.json"])
        for name in "ABC":
            expected = await pool.fetchval(
                "SELECT count(*) FROM rpu_passage WHERE finess = $1 AND day >= '2026-01-01' AND day <= '2026-09-30'",
                finess[name],
            )
            assert f"{finess[name]};TOTAL;{expected}" in counts
            assert manifest["rpu_per_finess"][finess[name]] == expected > 0
        atih_parents = await pool.fetchval(
            "SELECT trace_parents FROM rpu_delivery WHERE destination = $1 AND file_name = $2",
            f"atih-{unique}", f"RPU_ATIH_{finess['C']}_202609.xml",
        )  # fmt: skip
        assert catch_up_trace in atih_parents  # the ATIH delivery is in the trace of the files it carries

        # The ARS extract of the next morning: the year to date, delivered in the traces of the night's files.
        ars_destination = HttpsPost(f"ars-{unique}", HttpDestinationSettings(url=f"{receiver.url}/ars"))
        ars = ArsDailyExport(
            pool=lambda: pool, blobs=blobs, ledger=ledger, destination=ars_destination.name, tracer=tracer,
            delivery=ExportDelivery(
                ledger=ledger, blobs=blobs, destinations={ars_destination.name: ars_destination}, tracer=tracer
            ),
        )  # fmt: skip
        assert (await ars.run(BACK + timedelta(days=1))).complete
        ars_manifest = json.loads(receiver.files[f"/ars/ars-{BACK + timedelta(days=1)}.manifest.json"])
        for name in "ABC":
            expected = await pool.fetchval(
                "SELECT count(*) FROM rpu_passage WHERE finess = $1 AND day >= '2026-01-01' AND day <= $2",
                finess[name], BACK,
            )  # fmt: skip
            assert ars_manifest["rpu_per_finess"][finess[name]] == expected
        ars_parents = await pool.fetchval(
            "SELECT trace_parents FROM rpu_delivery WHERE destination = $1 AND file_name LIKE '%.csv.gz'",
            ars_destination.name,
        )
        assert catch_up_trace in ars_parents
    finally:
        await broker.stop()
        await pool.close()


def cli(database_url: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "relais"), *args],
        env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def alert_event(kafka: KafkaSettings, finess: str) -> RpuAbsenceAlerted:
    consumer = AIOKafkaConsumer(
        kafka.topic(Topic.RPU_ABSENCE_ALERTED),
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        event = RpuAbsenceAlerted.model_validate_json(record.value)
                        if event.finess == finess and event.reason == "absence":
                            return event
    finally:
        await consumer.stop()
