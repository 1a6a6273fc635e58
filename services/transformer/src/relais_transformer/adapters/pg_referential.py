from __future__ import annotations

from relais_platform.runtime import DatabaseHandle
from relais_transformer.ports import KnownFiness


class PostgresReferential:
    """Reads the FINESS referential loaded in PostgreSQL.

    Closed structures stay known: DIAMANT reports past years of an ET closed since. Caduc ETs never operated, so
    no indicator may refer to them."""

    def __init__(self, db: DatabaseHandle) -> None:
        self._db = db

    async def current(self) -> KnownFiness:
        async with self._db.pool.acquire() as conn:
            ets = await conn.fetch(
                "SELECT numero_finess_etablissement_territorial AS n, numero_finess_entite_juridique AS ej "
                "FROM etablissement_territorial WHERE NOT caduc"
            )
            ejs = await conn.fetch("SELECT numero_finess_entite_juridique AS n FROM entite_juridique")
        return KnownFiness(
            frozenset(r["n"] for r in ets),
            frozenset(r["n"] for r in ejs),
            {r["n"]: r["ej"] for r in ets},
        )
