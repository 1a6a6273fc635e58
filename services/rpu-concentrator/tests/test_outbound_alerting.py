"""The absence check end to end on its ports: fakes for the passages table, the alert ledger on PostgreSQL and in
memory (one contract test for both), and REAL local receivers for the notifications: an aiosmtpd SMTP server and
a stdlib HTTP server for the webhook, both on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from relais_rpu_concentrator.outbound.absence import (
    LOCAL_TIME,
    AbsenceAlert,
    Establishment,
    EstablishmentActivity,
    LastFile,
    assess_absences,
)
from relais_rpu_concentrator.outbound.adapters.pg_alerts import PostgresAlertLedger
from relais_rpu_concentrator.outbound.adapters.smtp_mail import SmtpMail
from relais_rpu_concentrator.outbound.adapters.webhook import Webhook
from relais_rpu_concentrator.outbound.alerting import AbsenceCheck
from relais_rpu_concentrator.outbound.ports import AlertLedger, Notifier
from relais_rpu_concentrator.outbound.settings import SmtpSettings, WebhookSettings
from relais_rpu_concentrator.outbound.tracing import trace_parent_of
from relais_synthetic.finess import random_finess

DAY = date(2026, 11, 25)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------------------- fakes


@dataclass
class Region:
    """ActiveEstablishments and DailyCounts of the tests: what the regional passages table would answer."""

    establishments: list[Establishment] = field(default_factory=list)
    activity: dict[str, EstablishmentActivity] = field(default_factory=dict)

    async def active(self) -> list[Establishment]:
        return list(self.establishments)


class RegionCounts:
    def __init__(self, region: Region) -> None:
        self._region = region

    async def activity(
        self, finess: Sequence[str], first_day: date, last_day: date
    ) -> Mapping[str, EstablishmentActivity]:
        return {f: self._region.activity[f] for f in finess if f in self._region.activity}


@dataclass
class MemoryAlertLedger:
    alerts: dict[tuple[str, date], AbsenceAlert] = field(default_factory=dict)
    notified: set[tuple[str, date, str]] = field(default_factory=set)
    errors: dict[tuple[str, date, str], str] = field(default_factory=dict)

    async def record(self, alerts: Sequence[AbsenceAlert]) -> list[AbsenceAlert]:
        new = [a for a in alerts if (a.finess, a.day) not in self.alerts]
        self.alerts.update({(a.finess, a.day): a for a in new})
        return new

    async def notify_pending(self, day: date, channel: str, send: Notifier) -> list[AbsenceAlert]:
        sent = []
        for (finess, d), alert in sorted(self.alerts.items()):
            if d != day or (finess, d, channel) in self.notified:
                continue
            try:
                await send.notify(alert)
            except Exception as error:
                self.errors[(finess, d, channel)] = str(error)
                continue
            self.notified.add((finess, d, channel))
            sent.append(alert)
        return sent


@dataclass
class RecordingNotifier:
    channel: str = "recording"
    received: list[AbsenceAlert] = field(default_factory=list)
    failures: int = 0

    async def notify(self, alert: AbsenceAlert) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("canal indisponible")
        self.received.append(alert)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def ledger(request: pytest.FixtureRequest) -> AlertLedger:
    if request.param == "memory":
        return MemoryAlertLedger()
    return PostgresAlertLedger(request.getfixturevalue("pool"))


def region_with(
    provider: TracerProvider, n_quiet: int = 1, n_sending: int = 1, day: date = DAY
) -> tuple[Region, list[str]]:
    """`n_quiet` establishments silent for 3 days, `n_sending` that sent this morning; unique FINESS per call.

    Tests on the shared session database each take their own day: a check notifies every pending alert of its day.
    """
    import random
    import uuid

    rng = random.Random(uuid.uuid4().int)
    region = Region()
    traces = []
    for i in range(n_quiet + n_sending):
        finess = random_finess(rng)
        last_day = day - timedelta(days=3) if i < n_quiet else day
        with provider.get_tracer("intake").start_as_current_span(f"intake {finess}") as span:
            trace = trace_parent_of(span.get_span_context())
        files = {last_day - timedelta(days=k): 1 for k in range(20)}
        counts = {day - timedelta(days=k): 100 + k % 3 for k in range(1, 30)}
        at = datetime.combine(last_day, time(2, 30), tzinfo=LOCAL_TIME)
        last = LastFile(f"RPU_{finess}_{last_day:%Y%m%d}.xml", at, trace)
        region.establishments.append(Establishment(finess, f"CH numéro {i}"))
        region.activity[finess] = EstablishmentActivity(files, counts, last)
        if i < n_quiet:
            traces.append(trace)
    return region, traces


def region_alert_message(region: Region, finess: str, day: date) -> str:
    [alert] = [a for a in assess_absences(day, region.establishments, region.activity) if a.finess == finess]
    return alert.message


def check(
    region: Region, ledger: AlertLedger, notifiers: list[Any], provider: TracerProvider
) -> AbsenceCheck:
    return AbsenceCheck(
        establishments=region,
        counts=RegionCounts(region),
        ledger=ledger,
        notifiers=notifiers,
        tracer=provider.get_tracer("test"),
    )


# ---------------------------------------------------------------------------------------------- behaviour


async def test_one_alert_per_establishment_and_day_however_often_the_check_runs(
    ledger: AlertLedger, provider: TracerProvider
) -> None:
    day = DAY + timedelta(days=10)
    region, _ = region_with(provider, n_quiet=2, n_sending=1, day=day)
    notifier = RecordingNotifier()
    absence = check(region, ledger, [notifier], provider)

    first = await absence.run(day)
    again = await absence.run(day)
    third = await absence.run(day)

    assert len(first.new) == 2 and again.new == [] and third.new == []
    assert len(again.alerts) == 2  # still assessed, just not alerted twice
    assert sorted(a.finess for a in notifier.received) == sorted(a.finess for a in first.alerts)


async def test_a_failed_channel_is_retried_by_the_next_check_without_resending_on_the_others(
    ledger: AlertLedger, provider: TracerProvider
) -> None:
    day = DAY + timedelta(days=20)
    region, _ = region_with(provider, n_quiet=1, n_sending=0, day=day)
    mail = RecordingNotifier("mail", failures=1)
    hook = RecordingNotifier("webhook")
    absence = check(region, ledger, [mail, hook], provider)

    first = await absence.run(day)
    second = await absence.run(day)

    assert first.notified == {"mail": [], "webhook": [region.establishments[0].finess]}
    assert second.notified == {"mail": [region.establishments[0].finess], "webhook": []}
    assert len(mail.received) == 1 and len(hook.received) == 1


@pytest.mark.integration
async def test_the_postgres_ledger_keeps_the_whole_alert_for_a_later_notification(
    pool: asyncpg.Pool, provider: TracerProvider
) -> None:
    day = DAY + timedelta(days=30)
    region, _ = region_with(provider, n_quiet=1, n_sending=0, day=day)
    await check(region, PostgresAlertLedger(pool), [], provider).run(day)
    notifier = RecordingNotifier()

    [alert] = await PostgresAlertLedger(pool).notify_pending(day, "late-channel", notifier)

    assert notifier.received == [alert]
    assert alert.last_file == region.activity[alert.finess].last_file
    assert alert.missing_days == tuple(day - timedelta(days=k) for k in (2, 1, 0))
    assert alert.message == region_alert_message(region, alert.finess, day)


async def test_every_alert_and_notification_is_a_span_in_the_trace_of_the_establishments_last_file(
    provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    region, traces = region_with(provider, n_quiet=1, n_sending=1)
    await check(region, MemoryAlertLedger(), [RecordingNotifier("mail")], provider).run(DAY)

    finished = {s.name: s for s in spans.get_finished_spans()}
    quiet = region.establishments[0].finess
    alert = finished[f"rpu.absence_alert {quiet}"]
    notify = finished["rpu.alert.notify mail"]
    for span in (alert, notify):
        assert f"{span.context.trace_id:032x}" == traces[0].split("-")[1]
        assert span.attributes is not None and span.attributes["relais.finess"] == quiet
    assert finished["rpu.absence_check"].attributes == {
        "relais.day": "2026-11-25", "relais.establishments": 2, "relais.alerts": 1, "relais.new_alerts": 1,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------- real receivers


class MailBox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    documents: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    received = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.documents.append(json.loads(body))
            received.keys.append(self.headers["Idempotency-Key"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}/alertes"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
async def test_the_ars_receives_one_french_mail_and_one_webhook_per_alert_from_real_local_servers(
    pool: asyncpg.Pool,
    provider: TracerProvider,
    smtp_server: tuple[MailBox, int],
    webhook_receiver: tuple[WebhookReceiver, str],
) -> None:
    box, port = smtp_server
    hook, url = webhook_receiver
    region, _ = region_with(provider, n_quiet=1, n_sending=2)
    quiet = region.establishments[0]
    mail = SmtpMail(
        SmtpSettings(
            host="127.0.0.1", port=port, sender="relais@ars.invalid", recipients=["veille@ars.invalid"]
        )
    )
    absence = check(region, PostgresAlertLedger(pool), [mail, Webhook(WebhookSettings(url=url))], provider)

    await absence.run(DAY)
    await absence.run(DAY)  # the check runs again: nothing more is sent

    [received] = box.mails
    assert box.envelopes[0].rcpt_tos == ["veille@ars.invalid"]
    assert received["Subject"] == f"[Relais RPU] absence de transmission — FINESS {quiet.finess} — 25/11/2026"
    body = received.get_content()
    assert (
        f"L'établissement FINESS {quiet.finess} ({quiet.name}) n'a transmis aucun fichier RPU le 25/11/2026."
        in body
    )
    assert f"Dernier fichier reçu : RPU_{quiet.finess}_20261122.xml, le 22/11/2026 à 02:30." in body
    assert "Jours sans fichier (3) : 23/11/2026, 24/11/2026, 25/11/2026." in body
    [document] = hook.documents
    assert document["finess"] == quiet.finess and document["motif"] == "absence"
    assert document["jours_manquants"] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert document["dernier_fichier"]["nom"] == f"RPU_{quiet.finess}_20261122.xml"
    assert hook.keys == [f"rpu-alert-{quiet.finess}-2026-11-25"]
