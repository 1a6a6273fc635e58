"""SSH authentication of intake accounts: public keys stored per account, optional password, disabled refused.

The account is looked up afresh at each login, so disabling it in the database takes effect at the next connection.
An unknown or disabled account goes through the same steps as a real one and simply never succeeds: a client
cannot tell which account names exist.
"""

from __future__ import annotations

import asyncio
import logging

import asyncssh

from relais_rpu_concentrator.intake.accounts import Account
from relais_rpu_concentrator.intake.passwords import DUMMY_HASH, verify_password
from relais_rpu_concentrator.ports import AccountDirectory

log = logging.getLogger(__name__)


class IntakeSshServer(asyncssh.SSHServer):
    """One instance per SSH connection (asyncssh's server_factory)."""

    def __init__(self, accounts: AccountDirectory, live: set[asyncssh.SSHServerConnection]) -> None:
        self._accounts = accounts
        self._live = live
        self._conn: asyncssh.SSHServerConnection | None = None
        self._candidate: Account | None = None
        self.account: Account | None = None  # set once authentication succeeded

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._live.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._live.discard(self._conn)

    async def begin_auth(self, username: str) -> bool:
        account = await self._accounts.find(username)
        if account is None or not account.active:
            log.warning("login refused: unknown or disabled account", extra={"account": username})
            self._candidate = None
            return True
        self._candidate = account
        if account.public_keys and self._conn is not None:
            self._conn.set_authorized_keys(asyncssh.import_authorized_keys("\n".join(account.public_keys)))
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        stored = self._candidate.password_hash if self._candidate is not None else None
        # scrypt costs ~0.1 s of CPU: off the event loop, and spent even when there is nothing to compare with.
        matches = await asyncio.to_thread(verify_password, password, stored or DUMMY_HASH)
        return matches and stored is not None

    def auth_completed(self) -> None:
        self.account = self._candidate
        if self.account is not None:
            log.info("login", extra={"account": self.account.name, "role": self.account.role.value})
