"""Delivery of an export against REAL local receivers: an in-process asyncssh SFTP server on a loopback port (key
auth, pinned host key) and a stdlib HTTP server on 127.0.0.1; the ledger is the real PostgreSQL table (0022)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import asyncssh
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.settings import PlatformSettings, TelemetrySettings
from relais_platform.telemetry import setup_tracing
from relais_platform.tracefile import read_spans, render_tree
from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger, format_ledger
from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.model import DeliveryEntry, DeliveryState, Export, ExportFile
from relais_rpu_concentrator.outbound.ports import Destination
from relais_rpu_concentrator.outbound.retry import RetryPolicy
from relais_rpu_concentrator.outbound.settings import HttpDestinationSettings, SftpDestinationSettings
from relais_rpu_concentrator.outbound.tracing import trace_parent_of

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=5, base_s=0.01, cap_s=0.04)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------------------- SFTP receiver


class CountingSftpServer(asyncssh.SFTPServer):
    """The receiver's SFTP server, chrooted, counting each file opened for writing."""

    writes: Counter[str]

    def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
        if pflags & asyncssh.FXF_WRITE:
            self.writes[Path(path.decode()).name] += 1
        return super().open(path, pflags, attrs)


@dataclass
class SftpReceiver:
    root: Path
    port: int
    settings: SftpDestinationSettings
    host_key: asyncssh.SSHKey
    authorized: str
    writes: Counter[str] = field(default_factory=Counter)
    server: Any = None

    async def start(self) -> None:
        writes = self.writes
        root = self.root

        def factory(chan: Any) -> asyncssh.SFTPServer:
            server = CountingSftpServer(chan, chroot=str(root).encode())
            server.writes = writes
            return server

        self.server = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self.authorized),
            sftp_factory=factory,
            allow_scp=False,
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    def files(self) -> dict[str, str]:
        """Final name → SHA-256 of what the receiver holds (temporary names included, to see leftovers)."""
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (self.root / "depot").iterdir()}


@pytest.fixture
async def sftp_receiver(tmp_path: Path) -> AsyncIterator[SftpReceiver]:
    root = tmp_path / "receiver"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "client_ed25519"
    key_path.write_bytes(client_key.export_private_key())
    key_path.chmod(0o600)
    port = free_port()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    settings = SftpDestinationSettings(
        host="127.0.0.1", port=port, username="spf", client_key=key_path, known_hosts=known_hosts,
        remote_dir="depot", connect_timeout_s=5,
    )  # fmt: skip
    receiver = SftpReceiver(root, port, settings, host_key, client_key.export_public_key().decode())
    try:
        yield receiver
    finally:
        await receiver.stop()


# ---------------------------------------------------------------------------------------------- HTTP receiver


@dataclass
class HttpReceiver:
    """Keeps one copy per Idempotency-Key, as Santé publique France's endpoint is asked to."""

    port: int
    stored: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # key → (file name, body)
    posts: Counter[str] = field(default_factory=Counter)  # file name → requests received
    unavailable: int = 0  # answer 503 to this many requests first
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oscour"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                name = self.path.rsplit("/", 1)[-1]
                receiver.posts[name] += 1
                if receiver.unavailable > 0:
                    receiver.unavailable -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                key = self.headers["Idempotency-Key"]
                assert key == hashlib.sha256(body).hexdigest()
                receiver.stored.setdefault(key, (name, body))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def files(self) -> dict[str, str]:
        return {name: key for key, (name, _) in self.stored.items()}


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(free_port())
    try:
        yield receiver
    finally:
        receiver.stop()


# ---------------------------------------------------------------------------------------------- the exporter side


class ProcessKilled(BaseException):
    """Stands for kill -9: nothing after it runs, no except clause of the exporter catches it."""


class KilledAfter:
    """The real ledger, with the process dying right after recording 'sending' (or 'delivered') of one file."""

    def __init__(self, inner: PostgresDeliveryLedger, file_name: str, *, after: str) -> None:
        self._inner = inner
        self._file = file_name
        self._after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def mark_sending(self, entry: DeliveryEntry) -> DeliveryEntry:
        entry = await self._inner.mark_sending(entry)
        if self._after == "sending" and entry.file.name == self._file:
            raise ProcessKilled
        return entry

    async def mark_delivered(self, entry: DeliveryEntry) -> None:
        if self._after == "sent" and entry.file.name == self._file:
            raise ProcessKilled  # the receiver has the file; the ledger does not know yet
        await self._inner.mark_delivered(entry)


@dataclass
class Exporter:
    pool: asyncpg.Pool
    blobs: FileSystemBlobStore
    spans: InMemorySpanExporter
    provider: TracerProvider
    sources: list[str]  # traceparents of the "received files"

    def export(self, unique: str, n_files: int = 3) -> Export:
        files = []
        for i in range(n_files):
            finess = f"67078005{i}"
            content = f"<OSCOUR><FINESS>{finess}</FINESS><n>{unique}-{i}</n></OSCOUR>\n".encode() * 50
            files.append(
                ExportFile(
                    name=f"oscour-{unique}-{finess}.xml",
                    blob=self.blobs.put_bytes(content, "application/xml"),
                    rpu_per_finess={finess: 10 + i},
                    trace_parents=(self.sources[i % len(self.sources)],),
                )
            )
        return Export(f"spf-{unique}", tuple(files))

    def delivery(self, destination: Destination, ledger: Any = None, sleep: Any = None) -> ExportDelivery:
        kwargs = {"sleep": sleep} if sleep is not None else {}
        return ExportDelivery(
            ledger=ledger or PostgresDeliveryLedger(self.pool),
            blobs=self.blobs,
            destinations={destination.name: destination},
            tracer=self.provider.get_tracer("test"),
            retry=FAST,
            **kwargs,
        )

    async def ledger(self, export_id: str) -> list[DeliveryEntry]:
        entries = await PostgresDeliveryLedger(self.pool).entries(export_id)
        print(f"\n{format_ledger(entries)}")
        return entries


@pytest.fixture
async def exporter(database_url: str, tmp_path: Path) -> AsyncIterator[Exporter]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = provider.get_tracer("intake")
    sources = []
    for i in range(2):
        with tracer.start_as_current_span(f"intake file {i}") as span:
            sources.append(trace_parent_of(span.get_span_context()))
    try:
        yield Exporter(pool, FileSystemBlobStore(tmp_path / "blobs"), spans, provider, sources)
    finally:
        await pool.close()


def sha_of(exporter: Exporter, export: Export) -> dict[str, str]:
    return {f.name: f.blob.sha256 for f in export.files}


# ---------------------------------------------------------------------------------------------- SFTP


async def test_sftp_receiver_down_for_the_first_attempts_then_up_gets_every_file_once(
    exporter: Exporter, sftp_receiver: SftpReceiver, unique: str
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the receiver comes back after the second failed try
            await sftp_receiver.start()

    export = exporter.export(unique)
    report = await exporter.delivery(SftpPush("spf", sftp_receiver.settings), sleep=sleep).deliver(
        export, "spf"
    )

    assert report.complete, report.failed
    assert waits == [0.01, 0.02]
    held = sftp_receiver.files()
    assert {n: s for n, s in held.items() if n != f"{export.export_id}.manifest.json"} == sha_of(
        exporter, export
    )
    assert not [n for n in held if n.endswith(".part")]
    assert all(count == 1 for count in sftp_receiver.writes.values())
    manifest = json.loads((sftp_receiver.root / "depot" / f"{export.export_id}.manifest.json").read_text())
    assert manifest["rpu_total"] == 10 + 11 + 12
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == sha_of(exporter, export)
    entries = await exporter.ledger(export.export_id)
    assert [e.state for e in entries] == [DeliveryState.DELIVERED] * 4
    assert entries[0].attempts == 3 and entries[1].attempts == 1


async def test_sftp_killed_after_sending_is_recorded_then_restarted_delivers_each_file_exactly_once(
    exporter: Exporter, sftp_receiver: SftpReceiver, unique: str
) -> None:
    await sftp_receiver.start()
    export = exporter.export(unique)
    second = export.files[1].name
    ledger = KilledAfter(PostgresDeliveryLedger(exporter.pool), second, after="sending")
    spf = f"spf-{unique}"  # its own destination: the resume below takes everything pending for it
    with pytest.raises(ProcessKilled):
        await exporter.delivery(SftpPush(spf, sftp_receiver.settings), ledger).deliver(export, spf)
    states = {e.file.name: e.state for e in await exporter.ledger(export.export_id)}
    assert states[export.files[0].name] is DeliveryState.DELIVERED
    assert states[second] is DeliveryState.SENDING

    # A new process: resumes what is planned or sending, never re-plans, never skips.
    report = await exporter.delivery(SftpPush(spf, sftp_receiver.settings)).resume(spf)

    assert report.complete and len(report.delivered) == 3
    entries = await exporter.ledger(export.export_id)
    assert all(e.state is DeliveryState.DELIVERED for e in entries)
    assert sftp_receiver.writes == Counter(
        {f".{n}.part": 1 for n in [*sha_of(exporter, export), entries[-1].file.name]}
    )
    assert set(sftp_receiver.files()) == {*sha_of(exporter, export), f"{export.export_id}.manifest.json"}


async def test_sftp_killed_after_the_transfer_but_before_delivered_resends_to_the_same_name(
    exporter: Exporter, sftp_receiver: SftpReceiver, unique: str
) -> None:
    await sftp_receiver.start()
    export = exporter.export(unique)
    first = export.files[0].name
    ledger = KilledAfter(PostgresDeliveryLedger(exporter.pool), first, after="sent")
    with pytest.raises(ProcessKilled):
        await exporter.delivery(SftpPush("spf", sftp_receiver.settings), ledger).deliver(export, "spf")

    report = await exporter.delivery(SftpPush("spf", sftp_receiver.settings)).resume("spf", export.export_id)

    assert report.complete
    assert sftp_receiver.writes[f".{first}.part"] == 2  # sent twice…
    held = sftp_receiver.files()
    assert held[first] == export.files[0].blob.sha256  # …held once, under its final name
    assert len(held) == 4
    entries = await exporter.ledger(export.export_id)
    assert [e.attempts for e in entries] == [2, 1, 1, 1]


# ---------------------------------------------------------------------------------------------- HTTP


async def test_http_receiver_down_then_unavailable_then_up_gets_every_file_once(
    exporter: Exporter, http_receiver: HttpReceiver, unique: str
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            http_receiver.unavailable = 1  # listening, but answering 503 once
            http_receiver.start()

    export = exporter.export(unique)
    destination = HttpsPost("spf-https", HttpDestinationSettings(url=http_receiver.url, timeout_s=5))
    report = await exporter.delivery(destination, sleep=sleep).deliver(export, "spf-https")

    assert report.complete, report.failed
    assert waits == [0.01, 0.02]
    assert http_receiver.files() == {
        **sha_of(exporter, export),
        f"{export.export_id}.manifest.json": (await exporter.ledger(export.export_id))[-1].file.sha256,
    }


async def test_http_killed_after_the_post_then_restarted_is_deduplicated_by_idempotency_key(
    exporter: Exporter, http_receiver: HttpReceiver, unique: str
) -> None:
    http_receiver.start()
    export = exporter.export(unique)
    second = export.files[1].name
    destination = HttpsPost("spf-https", HttpDestinationSettings(url=http_receiver.url, timeout_s=5))
    ledger = KilledAfter(PostgresDeliveryLedger(exporter.pool), second, after="sent")
    with pytest.raises(ProcessKilled):
        await exporter.delivery(destination, ledger).deliver(export, "spf-https")

    report = await exporter.delivery(destination).resume("spf-https", export.export_id)

    assert report.complete
    assert http_receiver.posts[second] == 2
    assert len(http_receiver.stored) == 4  # 3 files and the manifest, each once
    assert set(http_receiver.files()) == {*sha_of(exporter, export), f"{export.export_id}.manifest.json"}
    entries = await exporter.ledger(export.export_id)
    assert all(e.state is DeliveryState.DELIVERED for e in entries)


async def test_http_refusal_stops_the_export_before_its_manifest_and_keeps_the_error(
    exporter: Exporter, unique: str
) -> None:
    destination = HttpsPost(
        "spf-https", HttpDestinationSettings(url=f"http://127.0.0.1:{free_port()}/x", timeout_s=2)
    )
    export = exporter.export(unique, n_files=2)
    report = await exporter.delivery(destination, sleep=_no_wait).deliver(export, "spf-https")

    assert not report.complete
    entries = await exporter.ledger(export.export_id)
    assert [e.state for e in entries] == [DeliveryState.PLANNED] * 3
    assert entries[0].attempts == FAST.max_attempts and "ConnectError" in (entries[0].last_error or "")
    assert entries[2].attempts == 0  # the manifest never goes before its files


async def _no_wait(seconds: float) -> None:
    return None


# ---------------------------------------------------------------------------------------------- traces


async def test_each_delivery_is_a_span_naming_the_export_and_finess_and_appears_in_the_files_traces(
    exporter: Exporter, http_receiver: HttpReceiver, unique: str
) -> None:
    http_receiver.start()
    export = exporter.export(unique, n_files=2)
    destination = HttpsPost("spf-https", HttpDestinationSettings(url=http_receiver.url, timeout_s=5))
    await exporter.delivery(destination).deliver(export, "spf-https")

    spans = exporter.spans.get_finished_spans()
    [whole] = [s for s in spans if s.name == f"rpu.deliver_export {export.export_id}"]
    assert whole.attributes is not None
    assert whole.attributes["relais.finess"] == ("670780050", "670780051")
    assert {f"{link.context.trace_id:032x}" for link in whole.links} == {
        tp.split("-")[1] for tp in exporter.sources
    }
    delivering = {s.name: s for s in spans if s.name.startswith("rpu.deliver ")}
    first = delivering[f"rpu.deliver {export.files[0].name}"]
    assert first.parent is not None and first.parent.span_id == whole.context.span_id
    assert first.attributes is not None
    assert first.attributes["relais.export_id"] == export.export_id
    assert first.attributes["relais.finess"] == ("670780050",)
    assert [f"{link.context.trace_id:032x}" for link in first.links] == [exporter.sources[0].split("-")[1]]
    in_file_traces = {f"{s.context.trace_id:032x}" for s in spans if s.name == "rpu.delivered"}
    assert in_file_traces == {tp.split("-")[1] for tp in exporter.sources}


async def test_with_the_platform_tracer_relais_trace_of_a_received_file_shows_where_it_was_delivered(
    exporter: Exporter, http_receiver: HttpReceiver, unique: str, tmp_path: Path
) -> None:
    settings = PlatformSettings(telemetry=TelemetrySettings(relais_trace_dir=tmp_path / "traces"))
    provider = setup_tracing("rpu-concentrator", settings)
    tracer = provider.get_tracer("relais.rpu-concentrator")
    with tracer.start_as_current_span("rpu.intake RPU_670780050.xml") as received:
        parent = trace_parent_of(received.get_span_context())
    http_receiver.start()
    blob = exporter.blobs.put_bytes(b"<OSCOUR/>\n" + unique.encode(), "application/xml")
    export = Export(f"spf-{unique}", (ExportFile(f"oscour-{unique}.xml", blob, {"670780050": 1}, (parent,)),))
    delivery = ExportDelivery(
        ledger=PostgresDeliveryLedger(exporter.pool),
        blobs=exporter.blobs,
        destinations={"spf-https": HttpsPost("spf-https", HttpDestinationSettings(url=http_receiver.url))},
        tracer=tracer,
    )
    await delivery.deliver(export, "spf-https")
    provider.shutdown()

    trace = read_spans(tmp_path / "traces", parent.split("-")[1])
    print("\n" + render_tree(trace))
    names = [s.name for s in trace]
    assert names.count("rpu.delivered") == 2  # the file, then the manifest that lists it
    assert {s.attributes["relais.export_id"] for s in trace if s.name == "rpu.delivered"} == {
        export.export_id
    }


async def test_two_exporters_resuming_the_same_destination_at_once_send_each_file_once(
    exporter: Exporter, sftp_receiver: SftpReceiver, unique: str
) -> None:
    await sftp_receiver.start()
    export = exporter.export(unique)
    spf = f"spf-{unique}"
    ledger = KilledAfter(PostgresDeliveryLedger(exporter.pool), export.files[0].name, after="sending")
    with pytest.raises(ProcessKilled):
        await exporter.delivery(SftpPush(spf, sftp_receiver.settings), ledger).deliver(export, spf)

    one, two = (exporter.delivery(SftpPush(spf, sftp_receiver.settings)) for _ in range(2))
    reports = await asyncio.gather(one.resume(spf), two.resume(spf))

    assert sorted(len(r.delivered) for r in reports) == [0, 4]
    assert set(sftp_receiver.writes.values()) == {1}
    assert len(sftp_receiver.writes) == 4
