"""The monthly export to ATIH (Syrius): anonymised and cumulative, 1 January → end of month M.

Export `atih-<YYYY-MM>` (an on-demand rerun after corrections: `atih-<YYYY-MM>-r<n>`), through the delivery ledger
like every export (planned once, each file sent once, manifest last):
- one file per establishment holding data in the period, `RPU_ATIH_<FINESS>_<YYYYMM>.xml`, written by
  `relais_rpu.atih` (the one module to adapt when Syrius's layout is confirmed): no COMMUNE, CP → PMSI geographic
  code (`relais_rpu.geo`, the table shipped as data), NAISSANCE → age in years at entry; DATEDEBUT/DATEFIN are
  1 January and the end of M;
- `<export id>.counts.csv`: `finess;month;rpu` per establishment and month plus a `TOTAL` row per establishment,
  what the regional validator compares with the counts Syrius displays;
- the manifest (counts per FINESS and SHA-256 of every file).
Each establishment's file is delivered in the traces of that establishment's files covering days of M.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta

from opentelemetry.trace import Tracer

from relais_platform.blobstore import BlobStore
from relais_rpu.atih import AtihWriter, GeoCodeLookup
from relais_rpu.model import RpuHeader
from relais_rpu_concentrator.outbound.delivery import DeliveryReport, ExportDelivery
from relais_rpu_concentrator.outbound.model import Export, ExportFile
from relais_rpu_concentrator.outbound.ports import DeliveryLedger, RegionalPassages

PREFIX = "atih-"
ATIH_MEDIA_TYPE = "application/xml"
COUNTS_MEDIA_TYPE = "text/csv"


def export_id(month: date, revision: int = 1) -> str:
    return f"{PREFIX}{month:%Y-%m}" + (f"-r{revision}" if revision > 1 else "")


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def file_name(finess: str, month: date) -> str:
    return f"RPU_ATIH_{finess}_{month:%Y%m}.xml"


class AtihMonthlyExport:
    def __init__(
        self,
        *,
        source: RegionalPassages,
        blobs: BlobStore,
        delivery: ExportDelivery,
        ledger: DeliveryLedger,
        destination: str,
        tracer: Tracer,
        geo_code: GeoCodeLookup,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._source = source
        self._blobs = blobs
        self._delivery = delivery
        self._ledger = ledger
        self._destination = destination
        self._tracer = tracer
        self._geo = geo_code
        self._now = now

    async def run(self, month: date, revision: int = 1) -> DeliveryReport:
        """Build and plan the export of `month` unless already planned, then send what is pending."""
        planned = await self._ledger.exports(self._destination, PREFIX)
        if export_id(month, revision) not in planned:
            await self._delivery.plan(await self.build(month, revision), self._destination)
        return await self._delivery.resume(self._destination)

    async def run_monthly(self, day: date, day_of_month: int) -> DeliveryReport | None:
        """The scheduler's daily call: from `day_of_month` on, the previous month is exported once."""
        if day.day < day_of_month:
            return None
        return await self.run(previous_month(day))

    async def build(self, month: date, revision: int = 1) -> Export:
        month = month.replace(day=1)
        first, last = month.replace(month=1), month_end(month)
        ident = export_id(month, revision)
        with self._tracer.start_as_current_span(
            f"rpu.atih_export.build {ident}",
            attributes={"relais.export_id": ident, "relais.first_day": first.isoformat()},
        ) as span:
            files, counts = [], {}
            for finess in await self._source.establishments(first, last):
                written, per_month = await self._write(finess, month, first, last)
                files.append(written)
                counts[finess] = per_month
            files.append(self._counts_file(ident, counts))
            span.set_attribute("relais.rpu", sum(sum(c.values()) for c in counts.values()))
            span.set_attribute("relais.finess", sorted(counts))
        return Export(ident, tuple(files))

    async def _write(
        self, finess: str, month: date, first: date, last: date
    ) -> tuple[ExportFile, dict[str, int]]:
        header = RpuHeader(finess, "0", self._now().replace(microsecond=0, tzinfo=None), first, last)
        with self._blobs.writer(ATIH_MEDIA_TYPE) as (out, refs):
            writer = AtihWriter(out, header, self._geo)
            await self._source.atih_rows(finess, first, last, writer.write_text)
            count = writer.close()
        # In the traces of the files received for month M (the cumulative file carries earlier months too, whose
        # files were marked by the earlier months' exports).
        parents = await self._source.trace_parents(finess, month, month_end(month))
        return ExportFile(file_name(finess, month), refs[0], {finess: count}, parents), writer.per_month

    def _counts_file(self, ident: str, counts: dict[str, dict[str, int]]) -> ExportFile:
        lines = ["finess;month;rpu"]
        for finess, per_month in sorted(counts.items()):
            lines += [f"{finess};{m};{n}" for m, n in sorted(per_month.items())]
            lines.append(f"{finess};TOTAL;{sum(per_month.values())}")
        ref = self._blobs.put_bytes(("\n".join(lines) + "\n").encode("utf-8"), COUNTS_MEDIA_TYPE)
        return ExportFile(f"{ident}.counts.csv", ref)
