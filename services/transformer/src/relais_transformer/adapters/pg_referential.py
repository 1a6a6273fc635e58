from __future__ import annotations

from relais_platform.runtime import DatabaseHandle
from relais_transformer.ports import KnownFiness


class PostgresReferential:
    """Reads the FINESS referential loaded in PostgreSQL (closed and caduc structures excluded)."""

    def __init__(self, db: DatabaseHandle) -> None:
        self._db = db

    async def current(self) -> KnownFiness:
        async with self._db.pool.acquire() as conn:
            ets = await conn.fetch(
                "SELECT numero_finess_etablissement_territorial AS n FROM etablissement_territorial "
                "WHERE date_fermeture IS NULL AND NOT coalesce(caduc, false)"
            )
            ejs = await conn.fetch(
                "SELECT numero_finess_entite_juridique AS n FROM entite_juridique WHERE date_fermeture IS NULL"
            )
        return KnownFiness(frozenset(r["n"] for r in ets), frozenset(r["n"] for r in ejs))
