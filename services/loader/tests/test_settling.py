"""When the loader recomputes the derived medico-social tables and announces the medico-social files: once for the
files loaded together, after the last of them, and never before their derived rows are committed."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from relais_contracts import FileLoaded
from relais_loader.settling import Settling


def loaded(name: str) -> FileLoaded:
    return FileLoaded(
        file_name=name, file_id="0" * 64, source="ANN_MS_TDP_ET", rows_written=1, outcome="loaded"
    )


class Journal:
    def __init__(self, failures: int = 0) -> None:
        self.steps: list[str] = []
        self.failures = failures
        self.announced = asyncio.Event()

    async def settle(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database down")
        self.steps.append("settle")

    async def announce(self, files: list[FileLoaded]) -> None:
        self.steps.append("announce " + " ".join(f.file_name for f in files))
        self.announced.set()


@pytest.fixture
async def journal() -> AsyncIterator[Journal]:
    yield Journal()


async def running(settling: Settling) -> asyncio.Task[None]:
    task = asyncio.create_task(settling.run())
    await asyncio.sleep(0)
    return task


async def test_files_loaded_together_are_recomputed_once_then_announced_after_the_last_load(
    journal: Journal,
) -> None:
    settling = Settling(journal.settle, journal.announce, quiet_s=0.05)
    task = await running(settling)
    second_may_end = asyncio.Event()

    async def second() -> None:
        async with settling.loading():
            await second_may_end.wait()
        settling.leave(loaded("B"))

    other = asyncio.create_task(second())
    async with settling.loading():
        pass
    settling.leave(loaded("A"))
    await asyncio.sleep(0.2)
    assert journal.steps == []  # B is still loading: A waits for it
    second_may_end.set()
    await other
    await asyncio.wait_for(journal.announced.wait(), 2)
    assert journal.steps == ["settle", "announce A B"]
    task.cancel()


async def test_a_load_that_never_ends_delays_the_others_no_longer_than_max_wait(journal: Journal) -> None:
    settling = Settling(journal.settle, journal.announce, quiet_s=0.05, max_wait_s=0.2)
    task = await running(settling)
    stuck = asyncio.Event()

    async def forever() -> None:
        async with settling.loading():
            await stuck.wait()

    hung = asyncio.create_task(forever())
    settling.leave(loaded("A"))
    await asyncio.wait_for(journal.announced.wait(), 2)
    assert journal.steps == ["settle", "announce A"]
    stuck.set()
    await hung
    task.cancel()


async def test_a_failed_recomputation_is_retried_and_the_files_announced_only_after_it() -> None:
    journal = Journal(failures=2)
    settling = Settling(journal.settle, journal.announce, quiet_s=0.01, retry_s=0.01)
    task = await running(settling)
    settling.leave(loaded("A"))
    await asyncio.wait_for(journal.announced.wait(), 2)
    assert journal.steps == ["settle", "announce A"]
    task.cancel()


async def test_at_start_the_files_left_unannounced_are_recomputed_then_announced(journal: Journal) -> None:
    settling = Settling(journal.settle, journal.announce)

    async def unannounced() -> list[FileLoaded]:
        journal.steps.append("list")
        return [loaded("A")]

    await settling.recover(unannounced)
    assert journal.steps == ["list", "settle", "announce A"]
