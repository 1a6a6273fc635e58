"""The daily export to Santé publique France: one OSCOUR file per establishment whose passages changed.

Choice: per-establishment files (`RPU_<FINESS>_<day>.xml`), not a regional bundle. Each carries, in the national
format, the establishment's current passages for the days its files of the window covered, with DATEDEBUT/DATEFIN
set to those days, so that Santé publique France applies the same "annule et remplace" per establishment and day
as the concentrator; a failed or disputed file concerns one establishment only; the manifest lists them all.

Windows are fixed: the export of day D covers files integrated from the export hour of D−1 to that of D, and is
named `spf-<D>`. The delivery ledger is the cursor: a run for D also builds every day since the last planned
export that has none (a service down for three days catches up three exports), and then sends all that is pending.

Replays (spec §4): each build also carries every replay request whose data the regional database now holds
(`ReplayLedger.pending_periods`, joined by `replay.export.with_replays`), and once the export is planned the
requests are marked sent with its id; a crash in between only makes the next export carry the period again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opentelemetry.trace import Tracer

from relais_platform.blobstore import BlobStore
from relais_rpu.model import RpuHeader
from relais_rpu.write import DEFAULT_LAYOUT, prolog, render_header, render_passage
from relais_rpu_concentrator.outbound.delivery import DeliveryReport, ExportDelivery
from relais_rpu_concentrator.outbound.model import Export, ExportFile
from relais_rpu_concentrator.outbound.ports import ChangedEstablishment, DeliveryLedger, ExportSource
from relais_rpu_concentrator.replay.export import with_replays
from relais_rpu_concentrator.replay.model import ReplayRequest
from relais_rpu_concentrator.replay.ports import ReplayLedger

PREFIX = "spf-"
OSCOUR_MEDIA_TYPE = "application/xml"
_BLOCK = 2000


def export_id(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}"


def day_of(export: str) -> date:
    return date.fromisoformat(export.removeprefix(PREFIX))


def window(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[export hour of day − 1, export hour of day), as aware datetimes."""
    return (
        datetime.combine(day - timedelta(days=1), at, tzinfo=zone),
        datetime.combine(day, at, tzinfo=zone),
    )


def file_name(finess: str, day: date) -> str:
    return f"RPU_{finess}_{day:%Y%m%d}.xml"


class SpfDailyExport:
    def __init__(
        self,
        *,
        source: ExportSource,
        blobs: BlobStore,
        delivery: ExportDelivery,
        ledger: DeliveryLedger,
        destination: str,
        tracer: Tracer,
        at: time,
        zone: ZoneInfo,
        max_catch_up_days: int = 31,
        replays: ReplayLedger | None = None,
    ) -> None:
        self._source = source
        self._blobs = blobs
        self._delivery = delivery
        self._ledger = ledger
        self._destination = destination
        self._tracer = tracer
        self._at = at
        self._zone = zone
        self._max_catch_up = max_catch_up_days
        self._replays = replays

    async def run(self, day: date) -> DeliveryReport:
        """Build the exports of `day` and of any earlier day missed since the last one, then send what is pending."""
        for missing in await self.days_to_build(day):
            # Replays join the export of the day itself, not the catch-up of past windows built before it.
            asked = self._replays is not None and missing == day
            pending = await self._replays.pending_periods() if asked and self._replays is not None else []
            export = await self.build(missing, pending)
            await self._delivery.plan(export, self._destination)
            if pending and self._replays is not None:
                await self._replays.mark_sent(export.export_id, [r.request_id for r in pending])
        return await self._delivery.resume(self._destination)

    async def days_to_build(self, day: date) -> list[date]:
        planned = await self._ledger.exports(self._destination, PREFIX)
        if not planned:
            return [day]  # the first export ever: nothing before it to catch up
        last = max(day_of(e) for e in planned)
        first = max(last + timedelta(days=1), day - timedelta(days=self._max_catch_up - 1))
        return [first + timedelta(days=i) for i in range((day - first).days + 1)]

    async def build(self, day: date, replays: Sequence[ReplayRequest] = ()) -> Export:
        since, until = window(day, self._at, self._zone)
        with self._tracer.start_as_current_span(
            f"rpu.spf_export.build {export_id(day)}",
            attributes={"relais.export_id": export_id(day), "relais.since": since.isoformat()},
        ) as span:
            changed = await self._source.changed(since, until)
            if replays:
                changed = with_replays(changed, replays)
                span.set_attribute("relais.replays", [r.request_id for r in replays])
            files = [await self._write(day, until, c) for c in changed]
            span.set_attribute("relais.finess", [c.finess for c in changed])
            span.set_attribute("relais.rpu", sum(n for f in files for n in f.rpu_per_finess.values()))
        return Export(export_id(day), tuple(files))

    async def _write(self, day: date, until: datetime, changed: ChangedEstablishment) -> ExportFile:
        header = RpuHeader(
            finess=changed.finess,
            extract=until.replace(tzinfo=None),
            date_debut=changed.first_day,
            date_fin=changed.last_day,
        )
        encoding = DEFAULT_LAYOUT.encoding
        count = 0
        with self._blobs.writer(OSCOUR_MEDIA_TYPE) as (out, refs):
            out.write(
                (prolog(DEFAULT_LAYOUT) + "<OSCOUR>\n" + render_header(header) + "<PASSAGES>\n").encode(
                    encoding
                )
            )
            block: list[str] = []
            async for passage in self._source.passages(changed.finess, changed.first_day, changed.last_day):
                block.append(render_passage(passage))
                count += 1
                if len(block) >= _BLOCK:  # bounded memory whatever the establishment's volume
                    out.write("".join(block).encode(encoding, "xmlcharrefreplace"))
                    block.clear()
            block.append("</PASSAGES>\n</OSCOUR>\n")
            out.write("".join(block).encode(encoding, "xmlcharrefreplace"))
        return ExportFile(
            file_name(changed.finess, day), refs[0], {changed.finess: count}, changed.trace_parents
        )
