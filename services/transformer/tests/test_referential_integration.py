"""The transformer reads the FINESS referential again only when it has changed: whoever writes it (a loader, an
operator by hand) moves its version, so a number added is known to the next file, and an unchanged referential is
not read again."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from relais_platform.runtime import DatabaseHandle
from relais_transformer.adapters.pg_referential import PostgresReferential

pytestmark = pytest.mark.integration

EJ, ET = "numero_finess_entite_juridique", "numero_finess_etablissement_territorial"


class Handle(DatabaseHandle):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self._pool = pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as created:
        yield created


async def test_the_referential_is_read_again_only_when_it_has_changed(
    pool: asyncpg.Pool, unique: str
) -> None:
    ej = "01" + str(int(unique, 16) % 10**6).zfill(6) + "6"  # shape only: the check key is not checked here
    et = "01" + str(int(unique, 16) % 10**6).zfill(6) + "7"
    referential = PostgresReferential(Handle(pool))
    try:
        await _read_again_when_changed(referential, pool, ej, et)
    finally:  # the session database is shared: leave the referential as it was
        async with pool.acquire() as conn:
            await conn.execute(f"DELETE FROM etablissement_territorial WHERE {ET} = $1", et)
            await conn.execute(f"DELETE FROM entite_juridique WHERE {EJ} = $1", ej)


async def _read_again_when_changed(
    referential: PostgresReferential, pool: asyncpg.Pool, ej: str, et: str
) -> None:
    first = await referential.current()
    assert await referential.current() is first  # nothing written: the same object, not read again
    async with pool.acquire() as conn:
        await conn.execute(f"INSERT INTO entite_juridique ({EJ}, raison_sociale) VALUES ($1, 'EJ')", ej)
        await conn.execute(
            f"INSERT INTO etablissement_territorial ({ET}, {EJ}, raison_sociale, categorie) VALUES ($1, $2, 'ET', '355')",
            et,
            ej,
        )
    second = await referential.current()
    assert second is not first
    assert et in second.etablissements and ej in second.entites_juridiques and second.ej_of_et[et] == ej
    async with pool.acquire() as conn:
        await conn.execute(f"UPDATE etablissement_territorial SET caduc = true WHERE {ET} = $1", et)
    assert et not in (await referential.current()).etablissements  # a caduc ET never operated
