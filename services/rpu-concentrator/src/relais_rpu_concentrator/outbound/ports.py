"""What the outbound use cases need from the outside world.

`ExportSource` and `DailyCounts` are answered by the regional passages table (built by the integration part of the
concentrator); everything else has an adapter in `adapters/` and an in-memory fake in the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from relais_rpu.model import Passage
from relais_rpu_concentrator.outbound.absence import AbsenceAlert, Establishment, EstablishmentActivity
from relais_rpu_concentrator.outbound.model import DeliveryEntry, PlannedFile


class DeliveryError(Exception):
    """A try failed in a way worth trying again later (receiver down, timeout, 5xx)."""


class DeliveryRefused(DeliveryError):
    """The receiver refused the file for good (4xx other than 408/429, unknown host key): no more tries this run."""


class Destination(Protocol):
    """Where an export goes (SFTP push or HTTPS POST). `send` must be idempotent for the same file: sending again
    a file the receiver already holds must not give it a second copy (same final name, or Idempotency-Key)."""

    name: str

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        """Deliver the whole file, or raise DeliveryError; never leave a partial file under the final name."""
        ...


class DeliveryLedger(Protocol):
    """State per (export id, destination, file): planned → sending → delivered, with attempts and last error."""

    async def plan(self, export_id: str, destination: str, files: Sequence[PlannedFile]) -> None:
        """Record every file of the export at once (all or nothing); an export already planned is left as it is."""
        ...

    async def pending(self, destination: str, export_id: str | None = None) -> list[DeliveryEntry]:
        """Planned and sending entries, in export then send order."""
        ...

    async def mark_sending(self, entry: DeliveryEntry) -> DeliveryEntry:
        """Record the start of a try (attempts + 1) before any byte leaves."""
        ...

    async def mark_delivered(self, entry: DeliveryEntry) -> None: ...

    async def mark_failed(self, entry: DeliveryEntry, error: str) -> None:
        """Back to planned with the error, to be tried again by the next run."""
        ...

    async def entries(self, export_id: str, destination: str | None = None) -> list[DeliveryEntry]: ...

    async def exports(self, destination: str, prefix: str) -> list[str]:
        """The export ids planned for the destination that start with `prefix`, sorted."""
        ...

    def exclusive(self, destination: str) -> AbstractAsyncContextManager[None]:
        """Held while sending to the destination, so that only one process sends to it at a time."""
        ...


@dataclass(frozen=True)
class ChangedEstablishment:
    """An establishment whose passages were (re)placed by files received in an export window: the export resends
    its current passages of `first_day`..`last_day` (the days those files covered), which replace them downstream."""

    finess: str
    first_day: date
    last_day: date
    trace_parents: tuple[str, ...] = ()  # W3C traceparents of those received files


class ExportSource(Protocol):
    """The passages to send to Santé publique France (the regional passages table)."""

    async def changed(self, since: datetime, until: datetime) -> list[ChangedEstablishment]:
        """Establishments with files integrated in [since, until), in FINESS order."""
        ...

    def passages(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[Passage]:
        """The establishment's current passages with ENTREE in those days, streamed (bounded memory)."""
        ...


class ActiveEstablishments(Protocol):
    async def active(self) -> list[Establishment]:
        """Establishments expected to send RPU files every day (active intake accounts)."""
        ...


class DailyCounts(Protocol):
    """Per establishment and day: files received that day, and passages whose ENTREE is that day."""

    async def activity(
        self, finess: Sequence[str], first_day: date, last_day: date
    ) -> Mapping[str, EstablishmentActivity]: ...


class AlertLedger(Protocol):
    """One alert per (FINESS, day), and per alert one notification per channel."""

    async def record(self, alerts: Sequence[AbsenceAlert]) -> list[AbsenceAlert]:
        """Keep the alerts not already recorded for their (FINESS, day); returns those newly recorded."""
        ...

    async def notify_pending(self, day: date, channel: str, send: Notifier) -> list[AbsenceAlert]:
        """Send, through `send`, each alert of the day not yet notified on `channel` and mark it notified; a
        concurrent check skips alerts being notified; returns those sent."""
        ...


class Notifier(Protocol):
    """A channel to the ARS (SMTP mail, webhook)."""

    channel: str

    async def notify(self, alert: AbsenceAlert) -> None:
        """Deliver the alert or raise."""
        ...


class RegionalPassages(Protocol):
    """The whole regional database by day range, for the cumulative ATIH export."""

    async def establishments(self, first_day: date, last_day: date) -> list[str]:
        """FINESS holding passages (or days sent empty) in those days, sorted."""
        ...

    async def trace_parents(self, finess: str, first_day: date, last_day: date) -> tuple[str, ...]:
        """Traceparents of the establishment's integrated files that covered some of those days."""
        ...

    async def atih_rows(
        self, finess: str, first_day: date, last_day: date, consume: Callable[[list[list[str]]], object]
    ) -> None:
        """The establishment's current passages of those days (day order) as `relais_rpu.atih.ATIH_TEXT_FIELDS`
        rows, handed to `consume` a bounded batch at a time."""
        ...
