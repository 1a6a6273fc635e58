"""SFTP push (asyncssh): key authentication, pinned host key, upload under a temporary name then rename.

The receiver only ever sees complete files under their final name: the bytes go to `.<name>.part`, the size is
checked, then `posix-rename` replaces the final name atomically — which also makes a resend after a crash
idempotent (the same name, the same bytes).
"""

from __future__ import annotations

from pathlib import Path

import asyncssh

from relais_rpu_concentrator.outbound.model import PlannedFile
from relais_rpu_concentrator.outbound.ports import DeliveryError, DeliveryRefused
from relais_rpu_concentrator.outbound.settings import SftpDestinationSettings


class SftpPush:
    def __init__(self, name: str, settings: SftpDestinationSettings) -> None:
        self.name = name
        self._settings = settings

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        s = self._settings
        final = f"{s.remote_dir.rstrip('/')}/{file.name}" if s.remote_dir else file.name
        partial = f"{s.remote_dir.rstrip('/')}/.{file.name}.part" if s.remote_dir else f".{file.name}.part"
        try:
            async with (
                asyncssh.connect(
                    s.host,
                    port=s.port,
                    username=s.username,
                    client_keys=[str(s.client_key)],
                    known_hosts=str(s.known_hosts),  # pinned: an unknown or changed host key refuses the push
                    agent_path=None,
                    connect_timeout=s.connect_timeout_s,
                ) as conn,
                conn.start_sftp_client() as sftp,
            ):
                if s.remote_dir:
                    await sftp.makedirs(s.remote_dir, exist_ok=True)
                await sftp.put(str(content), partial)
                size = (await sftp.stat(partial)).size
                if size != file.size:
                    raise DeliveryError(f"{partial}: {size} octets reçus par le serveur sur {file.size}")
                try:
                    await sftp.posix_rename(partial, final)
                except asyncssh.SFTPOpUnsupported:
                    # A server without the OpenSSH extension: plain rename refuses to overwrite; a resend after a
                    # crash finds the same bytes there, so removing them first loses nothing.
                    try:
                        await sftp.remove(final)
                    except asyncssh.SFTPNoSuchFile:
                        pass
                    await sftp.rename(partial, final)
        except (asyncssh.HostKeyNotVerifiable, asyncssh.PermissionDenied) as refused:
            raise DeliveryRefused(f"{s.host}:{s.port}: {refused}") from refused
        except (OSError, asyncssh.Error) as error:
            raise DeliveryError(f"{s.host}:{s.port}: {type(error).__name__}: {error}") from error
