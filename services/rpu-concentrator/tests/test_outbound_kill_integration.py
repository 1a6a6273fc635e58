"""The bar of issue 5: killing the exporter (SIGKILL, a real separate process) in the middle of a delivery and
restarting it delivers every file exactly once. The receiver is an in-process asyncssh SFTP server that holds the
second file's bytes back until the exporter has been killed, so the kill lands mid-transfer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import asyncssh
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger, format_ledger
from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
from relais_rpu_concentrator.outbound.delivery import ExportDelivery, plan_files
from relais_rpu_concentrator.outbound.model import DeliveryState, Export, ExportFile
from relais_rpu_concentrator.outbound.settings import SftpDestinationSettings

pytestmark = pytest.mark.integration

EXPORTER = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    import asyncpg
    from opentelemetry.sdk.trace import TracerProvider
    from relais_platform.blobstore import FileSystemBlobStore
    from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
    from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
    from relais_rpu_concentrator.outbound.delivery import ExportDelivery
    from relais_rpu_concentrator.outbound.settings import SftpDestinationSettings

    async def main(args):
        pool = await asyncpg.create_pool(args["database_url"], min_size=1, max_size=2)
        delivery = ExportDelivery(
            ledger=PostgresDeliveryLedger(pool),
            blobs=FileSystemBlobStore(Path(args["blobs"])),
            destinations={args["destination"]: SftpPush(args["destination"], SftpDestinationSettings(**args["sftp"]))},
            tracer=TracerProvider().get_tracer("exporter"),
        )
        await delivery.resume(args["destination"])

    asyncio.run(main(json.loads(sys.argv[1])))
    """
)


class HoldingSftpServer(asyncssh.SFTPServer):
    """Chrooted; counts opens for writing; stalls the first try's write of the held file (released at the end,
    when its connection is long gone)."""

    writes: Counter[str]
    held: str
    release: asyncio.Event
    holding: asyncio.Event

    def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
        if pflags & asyncssh.FXF_WRITE:
            self.writes[Path(path.decode()).name] += 1
        return super().open(path, pflags, attrs)

    async def write(self, file_obj: Any, offset: int, data: bytes) -> Any:
        name = file_obj.name.decode() if isinstance(file_obj.name, bytes) else str(file_obj.name)
        if Path(name).name == f".{self.held}.part" and not self.holding.is_set():  # the first try only
            self.holding.set()
            await self.release.wait()
        return super().write(file_obj, offset, data)


async def test_exporter_killed_mid_transfer_then_restarted_delivers_every_file_exactly_once(
    database_url: str, tmp_path: Path, unique: str
) -> None:
    root = tmp_path / "receiver"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "client_ed25519"
    key_path.write_bytes(client_key.export_private_key())
    key_path.chmod(0o600)
    writes: Counter[str] = Counter()
    release, holding = asyncio.Event(), asyncio.Event()

    blobs = FileSystemBlobStore(tmp_path / "blobs")
    files = tuple(
        ExportFile(
            f"oscour-{unique}-{i}.xml",
            blobs.put_bytes(f"<OSCOUR>{i}</OSCOUR>".encode() * 40_000, "application/xml"),
            {f"67078005{i}": 100 + i},
        )
        for i in range(3)
    )
    export = Export(f"spf-{unique}", files)
    held = files[1].name

    def factory(chan: Any) -> asyncssh.SFTPServer:
        server = HoldingSftpServer(chan, chroot=str(root).encode())
        server.writes, server.held, server.release, server.holding = writes, held, release, holding
        return server

    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
        sftp_factory=factory,
        allow_scp=False,
    )
    port = acceptor.get_port()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    sftp = {
        "host": "127.0.0.1", "port": port, "username": "spf", "client_key": str(key_path),
        "known_hosts": str(known_hosts), "remote_dir": "depot", "connect_timeout_s": 5,
    }  # fmt: skip
    destination = f"spf-{unique}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    ledger = PostgresDeliveryLedger(pool)
    try:
        await ledger.plan(export.export_id, destination, plan_files(export, blobs))
        args = {
            "database_url": database_url,
            "blobs": str(tmp_path / "blobs"),
            "destination": destination,
            "sftp": sftp,
        }
        exporter = await asyncio.create_subprocess_exec(sys.executable, "-c", EXPORTER, json.dumps(args))
        # Bounded wait until the second file is being written (or the exporter died on its own: fail fast).
        waiting = asyncio.ensure_future(holding.wait())
        done, _ = await asyncio.wait(
            {waiting, asyncio.ensure_future(exporter.wait())}, timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
        assert waiting in done, f"the exporter ended before the transfer (exit code {exporter.returncode})"
        os.kill(exporter.pid, signal.SIGKILL)
        await exporter.wait()
        killed = await ledger.entries(export.export_id)
        print(f"\nafter kill -9:\n{format_ledger(killed)}")
        assert [e.state for e in killed] == [
            DeliveryState.DELIVERED, DeliveryState.SENDING, DeliveryState.PLANNED, DeliveryState.PLANNED,
        ]  # fmt: skip
        assert not (root / "depot" / held).exists()  # the receiver never sees a partial file under its name

        restarted = ExportDelivery(
            ledger=ledger,
            blobs=blobs,
            destinations={destination: SftpPush(destination, SftpDestinationSettings(**sftp))},  # type: ignore[arg-type]
            tracer=TracerProvider().get_tracer("exporter"),
        )
        report = await restarted.resume(destination)

        entries = await ledger.entries(export.export_id)
        print(f"after restart:\n{format_ledger(entries)}")
        assert report.complete and all(e.state is DeliveryState.DELIVERED for e in entries)
        assert [e.attempts for e in entries] == [1, 2, 1, 1]
        held_files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "depot").iterdir()}
        assert held_files == {
            e.file.name: e.file.sha256 for e in entries
        }  # every file once, complete, no .part
        assert writes[f".{held}.part"] == 2 and writes[f".{files[0].name}.part"] == 1
    finally:
        release.set()
        await pool.close()
        acceptor.close()
        await acceptor.wait_closed()
