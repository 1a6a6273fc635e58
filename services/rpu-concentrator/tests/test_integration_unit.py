"""The integration use case on in-memory fakes: replacement by day in EXTRACT order, redelivery, rejections,
receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from relais_contracts import RpuFileReceived
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.integration.ports import FileRecord, FileStatus
from relais_rpu_concentrator.integration.reading import PASSAGE_COLUMNS, PassageRow
from relais_rpu_concentrator.integration.use_case import FileSettlement, RpuIntegration

from .conftest import (
    BILLION_LAUGHS,
    XXE,
    FakeEvents,
    FakePassageStore,
    FakeReceipts,
    FakeTransaction,
    Fingerprint,
    Sent,
    at,
    expected_by_day,
    fingerprint,
    rolling,
    small_establishment,
)

D = date(2026, 9, 10)
_I = {name: PASSAGE_COLUMNS.index(name) for name in ("entree", "naissance", "sexe", "gravite", "checks")}


class World:
    def __init__(
        self, tmp_path: Path, seed: int = 7, invalid_rate: float = 0.0, batch_size: int = 50
    ) -> None:
        self.base, self.est = small_establishment(seed, invalid_rate)
        self.dir = tmp_path / "files"
        self.blobs = FileSystemBlobStore(tmp_path / "blobs")
        self.store = FakePassageStore()
        self.receipts = FakeReceipts()
        self.events = FakeEvents()
        self.integration = RpuIntegration(
            settlement=FileSettlement(store=self.store, blobs=self.blobs, batch_size=batch_size),
            receipts=self.receipts,
            events=self.events,
        )
        self.clock = datetime(2026, 9, 30, tzinfo=UTC)

    def event(self, data: bytes, name: str, finess: str | None = None) -> RpuFileReceived:
        self.clock += timedelta(minutes=1)  # received one after the other
        ref = self.blobs.put_bytes(data, "application/xml")
        finess = finess or self.est.finess
        return RpuFileReceived(
            finess=finess,
            account=finess,
            file_name=name,
            file_id=ref.sha256,
            blob=ref,
            received_at=self.clock,
        )

    def sent(self, sent: Sent) -> RpuFileReceived:
        path = sent.write(self.base, self.est, self.dir)
        return self.event(path.read_bytes(), path.name)

    def stored(self) -> dict[date, list[Fingerprint]]:
        def fp(row: PassageRow) -> Fingerprint:
            return fingerprint(row[_I["entree"]], row[_I["naissance"]], row[_I["sexe"]], row[_I["gravite"]])  # type: ignore[arg-type]

        return {day: sorted(map(fp, rows)) for day, rows in self.store.passages(self.est.finess).items()}

    def file(self, event: RpuFileReceived) -> FileRecord:
        return self.store.tables.files[(event.finess, event.file_id)]

    def expected(self, *sent: Sent) -> dict[date, list[Fingerprint]]:
        return expected_by_day(self.base, self.est, sent)


async def test_overlapping_rolling_files_leave_each_day_to_the_newest_extract(tmp_path: Path) -> None:
    w = World(tmp_path)
    files = [rolling(v, D + timedelta(days=v)) for v in range(3)]
    for sent in files:
        assert await w.integration.integrate(w.sent(sent)) == "integrated"
    assert w.stored() == w.expected(*files)
    assert len(w.stored()) == 9
    assert [e.days_replaced for e in w.events.integrated_events][2] == sorted(files[2].days())


async def test_a_late_older_extract_only_fills_the_days_no_newer_file_covers(tmp_path: Path) -> None:
    w = World(tmp_path)
    old, new = rolling(1, D), rolling(2, D + timedelta(days=2))
    await w.integration.integrate(w.sent(new))
    assert await w.integration.integrate(w.sent(old)) == "integrated"
    assert w.stored() == w.expected(old, new)
    [_, late] = w.events.integrated_events
    assert late.days_replaced == [D - timedelta(days=7), D - timedelta(days=6)]

    inside = Sent(3, D - timedelta(days=3), D - timedelta(days=2), at(D - timedelta(days=1)))
    assert await w.integration.integrate(w.sent(inside)) == "superseded"
    assert w.stored() == w.expected(old, new)
    [receipt] = [t for (f, n), t in w.receipts.written.items() if n.startswith(w.sent(inside).file_name)]
    assert "FICHIER NON APPLIQUÉ" in receipt


async def test_a_redelivered_event_changes_nothing_and_repeats_receipt_and_event(tmp_path: Path) -> None:
    w = World(tmp_path)
    event = w.sent(rolling(1, D))
    await w.integration.integrate(event)
    before = (dict(w.store.tables.passages), dict(w.store.tables.days), dict(w.receipts.written))
    assert await w.integration.integrate(event) == "already_integrated"
    assert (w.store.tables.passages, w.store.tables.days, w.receipts.written) == before
    assert w.receipts.writes == 2
    first, again = w.events.integrated_events
    assert (first.outcome, again.outcome) == ("integrated", "already_integrated")
    assert (again.file_id, again.passages_accepted, again.days_replaced) == (
        first.file_id, first.passages_accepted, first.days_replaced,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (XXE, "DOCTYPE/ENTITY interdite"),
        (BILLION_LAUGHS, "DOCTYPE/ENTITY interdite"),
        (b"", "XML invalide"),
        (b"<?xml version='1.0'?><OSCOUR><ETABLISSEMENT><FINESS>6700", "XML invalide"),
        (b"<OSCOUR><ETABLISSEMENT><FINESS>670000011</FINESS></ETABLISSEMENT></OSCOUR>", "invalide"),
        (b"<OSCOUR><ETABLISSEMENT><ORDRE>0</ORDRE></ETABLISSEMENT><PASSAGES/></OSCOUR>", "FINESS absent"),
    ],
)
async def test_a_refused_file_is_quarantined_and_files_around_it_are_integrated(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    w = World(tmp_path)
    before, after = rolling(1, D), rolling(2, D + timedelta(days=1))
    await w.integration.integrate(w.sent(before))
    bad = w.event(data, "RPU_bad.xml")
    assert await w.integration.integrate(bad) == "rejected"
    await w.integration.integrate(w.sent(after))

    assert w.stored() == w.expected(before, after)
    record = w.file(bad)
    assert record.status is FileStatus.REJECTED and reason in (record.error or "")
    [rejected] = w.events.rejected_events
    assert rejected.file_id == bad.file_id and rejected.blob == bad.blob
    receipt = w.receipts.written[(w.est.finess, record.receipt_name)]
    assert "FICHIER REJETÉ" in receipt and reason in receipt and "renvoyer" in receipt
    assert ("attaques XXE" in receipt) == (data in (XXE, BILLION_LAUGHS))
    assert await w.integration.integrate(bad) == "already_rejected"


async def test_a_file_broken_after_its_first_passages_stores_none_of_them(tmp_path: Path) -> None:
    w = World(tmp_path, batch_size=3)
    data = w.sent(rolling(1, D))
    good = w.blobs.open(data.blob).read()
    cut = good[: int(len(good) * 0.7)] + b"<PATIENT><ENTREE>oops</PATIENT>"
    assert await w.integration.integrate(w.event(cut, "RPU_cut.xml")) == "rejected"
    assert w.stored() == {} and w.store.tables.days == {}


async def test_a_file_for_another_establishment_is_refused(tmp_path: Path) -> None:
    w = World(tmp_path)
    path = rolling(1, D).write(w.base, w.est, w.dir)
    other = "750712184"
    event = w.event(path.read_bytes(), path.name, finess=other)
    assert await w.integration.integrate(event) == "rejected"
    assert "n'est pas celui du compte" in (w.file(event).error or "")
    assert w.store.passages(other) == {}


async def test_a_window_of_years_is_refused(tmp_path: Path) -> None:
    w = World(tmp_path)
    sent = Sent(1, D, D, at(D), window=(date(2006, 1, 1), D))
    assert await w.integration.integrate(w.sent(sent)) == "rejected"
    assert "période couverte trop large" in (w.file(w.sent(sent)).error or "")


async def test_records_without_entree_are_rejected_alone_and_listed_in_the_receipt(tmp_path: Path) -> None:
    w = World(tmp_path, seed=3, invalid_rate=0.3)
    sent = rolling(1, D)
    event = w.sent(sent)
    await w.integration.integrate(event)
    record = w.file(event)
    assert w.stored() == w.expected(sent)
    assert record.passages_rejected > 0
    assert len(w.store.tables.rejected) == record.passages_rejected
    assert record.passages_accepted == sum(len(v) for v in w.stored().values())
    receipt = w.receipts.written[(w.est.finess, record.receipt_name)]
    assert f"Passages rejetés  : {record.passages_rejected}" in receipt
    [number, *_] = [n for (_, fid, n) in w.store.tables.rejected if fid == event.file_id]
    assert f"REJET enregistrement {number} : REJET_ENTREE" in receipt
    assert "ANOMALIE enregistrement" in receipt  # FEDORU failures, each with its record number and rule
    checks = record.quality["checks"]
    assert isinstance(checks, dict) and sum(checks.values()) > 0
    stored_failures = sum(
        len(r[_I["checks"]]) for rows in w.store.passages(w.est.finess).values() for r in rows
    )  # type: ignore[arg-type]
    assert stored_failures == sum(checks.values())


async def test_receipt_reports_completeness_of_every_item_against_80_percent(tmp_path: Path) -> None:
    w = World(tmp_path)
    event = w.sent(rolling(1, D))
    await w.integration.integrate(event)
    receipt = w.receipts.written[(w.est.finess, w.file(event).receipt_name or "")]
    assert "objectif : 80,0 %" in receipt
    assert receipt.count("COMPLETUDE ") == 18
    assert "COMPLETUDE ENTREE          100,0 %" in receipt
    assert "SOUS L'OBJECTIF" in receipt  # LISTE_DA / LISTE_ACTES are rarely filled in the synthetic data


async def test_a_file_name_carrying_another_finess_is_a_warning_not_a_rejection(tmp_path: Path) -> None:
    w = World(tmp_path)
    path = rolling(1, D).write(w.base, w.est, w.dir)
    event = w.event(path.read_bytes(), "RPU_750712184_260910.xml")
    assert await w.integration.integrate(event) == "integrated"
    receipt = w.receipts.written[(w.est.finess, w.file(event).receipt_name or "")]
    assert "Avertissement : le FINESS du nom de fichier (750712184)" in receipt


async def test_batches_bound_what_is_held_in_memory(tmp_path: Path) -> None:
    w = World(tmp_path, batch_size=4)
    await w.integration.integrate(w.sent(rolling(1, D)))
    assert w.store.last is not None
    assert w.store.last.batches >= len(w.store.last.staged) / 4 > 5


async def test_identical_bytes_from_two_establishments_are_two_files_each_with_its_own_receipt(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    mine, theirs = w.event(XXE, "RPU_a.xml"), w.event(XXE, "RPU_b.xml", finess="750712184")
    assert await w.integration.integrate(mine) == "rejected"
    assert await w.integration.integrate(theirs) == "rejected"
    assert {finess for finess, _ in w.receipts.written} == {w.est.finess, "750712184"}
    assert [e.finess for e in w.events.rejected_events] == [w.est.finess, "750712184"]


async def test_a_database_failure_mid_file_rolls_back_and_the_redelivery_integrates_it(
    tmp_path: Path,
) -> None:
    w = World(tmp_path, batch_size=5)
    event = w.sent(rolling(1, D))
    real_transaction = w.store.transaction

    @asynccontextmanager
    async def failing(finess: str) -> AsyncIterator[FakeTransaction]:
        async with real_transaction(finess) as tx:
            stage = tx.stage_passages

            async def stage_then_fail(rows: Sequence[PassageRow]) -> None:
                await stage(rows)
                if tx.batches == 3:
                    raise ConnectionResetError("connexion perdue")

            tx.stage_passages = stage_then_fail  # type: ignore[method-assign]
            yield tx

    w.store.transaction = failing  # type: ignore[method-assign]
    with pytest.raises(ConnectionResetError):
        await w.integration.integrate(event)
    assert w.store.tables.files == {} and w.stored() == {} and w.events.integrated_events == []

    w.store.transaction = real_transaction  # type: ignore[method-assign]
    assert await w.integration.integrate(event) == "integrated"
    assert w.stored() == w.expected(rolling(1, D))
