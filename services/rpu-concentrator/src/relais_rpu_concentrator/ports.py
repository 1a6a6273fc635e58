"""What the intake needs from the outside world."""

from __future__ import annotations

from typing import Protocol

from relais_contracts import RpuFileReceived
from relais_rpu_concentrator.intake.accounts import Account


class FileReceivedSink(Protocol):
    """Where a received file is announced (Kafka in production, a list in tests)."""

    async def file_received(self, event: RpuFileReceived) -> None:
        """Publish the event durably; raise when it could not be, so the client is told to send again."""
        ...


class AccountDirectory(Protocol):
    """The intake accounts, looked up at each login (a disabled account is refused at its next login)."""

    async def find(self, name: str) -> Account | None: ...
