"""The intake SFTP server: asyncssh listening for establishments and ARS readers, as one lifespan resource."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncssh

from relais_rpu_concentrator.intake.accounts import Role
from relais_rpu_concentrator.intake.auth import IntakeSshServer
from relais_rpu_concentrator.intake.paths import ensure_establishment_dirs
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.sftp import IntakeSftpServer
from relais_rpu_concentrator.intake.view import View
from relais_rpu_concentrator.ports import AccountDirectory
from relais_rpu_concentrator.settings import IntakeSettings

log = logging.getLogger(__name__)


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's Ed25519 host key; generated (mode 0600) at first start so a fresh install just runs."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.export_private_key())
        path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
        log.info("intake host key generated", extra={"path": str(path)})
    return asyncssh.read_private_key(path)


class _SftpFactory:
    def __init__(self, settings: IntakeSettings, reception: FileReception) -> None:
        self._settings = settings
        self._reception = reception

    def __call__(self, chan: asyncssh.SSHServerChannel[bytes]) -> IntakeSftpServer:
        owner = chan.get_connection().get_owner()
        account = owner.account if isinstance(owner, IntakeSshServer) else None
        if account is None:  # cannot happen after a successful login; refuse rather than serve a default root
            raise asyncssh.DisconnectError(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "compte inconnu")
        if account.role is Role.ETABLISSEMENT:
            assert account.finess is not None
            try:
                ensure_establishment_dirs(self._settings.root, account.finess)
            except OSError:
                # Something on disk is not what the layout says (a link, a file): served all the same, the view
                # hides whatever is not a real folder; operators are told.
                log.exception("establishment folder not as expected", extra={"finess": account.finess})
        view = View(intake_root=self._settings.root, account=account)
        return IntakeSftpServer(chan, view, self._reception, self._settings.max_file_bytes)


@asynccontextmanager
async def intake_server(
    settings: IntakeSettings, accounts: AccountDirectory, reception: FileReception
) -> AsyncIterator[asyncssh.SSHAcceptor]:
    """Listen until the block exits; then stop accepting and close the sessions still open."""
    settings.root.mkdir(parents=True, exist_ok=True)
    host_key = await asyncio.to_thread(load_or_create_host_key, settings.host_key)
    live: set[asyncssh.SSHServerConnection] = set()
    acceptor = await asyncssh.listen(
        settings.host,
        settings.port,
        server_host_keys=[host_key],
        server_factory=lambda: IntakeSshServer(accounts, live),
        sftp_factory=_SftpFactory(settings, reception),
        sftp_version=3,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        keepalive_interval=60,
        login_timeout=settings.login_timeout_s,
    )
    log.info("rpu intake listening", extra={"host": settings.host, "port": acceptor.get_port()})
    try:
        yield acceptor
    finally:
        acceptor.close()
        await acceptor.wait_closed()
        for conn in list(live):
            conn.close()
        await asyncio.gather(*(conn.wait_closed() for conn in list(live)), return_exceptions=True)
