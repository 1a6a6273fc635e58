from __future__ import annotations

from relais_platform.runtime import DatabaseHandle
from relais_transformer.ports import KnownFiness


class PostgresReferential:
    """Reads the FINESS referential loaded in PostgreSQL, again only when it has changed since the last read (its
    version moves with every write to it: migration 0014). A national referential is ~100k numbers: read for every
    file, it took a third of the transformer's time on a weekly batch.

    Closed structures stay known: DIAMANT reports past years of an ET closed since. Caduc ETs never operated, so
    no indicator may refer to them."""

    def __init__(self, db: DatabaseHandle) -> None:
        self._db = db
        self._known: KnownFiness | None = None
        self._version: int | None = None

    async def current(self) -> KnownFiness:
        async with self._db.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # One snapshot for the version and the numbers: a write committed in between cannot be missed.
            version = await conn.fetchval("SELECT version FROM finess_referential_version")
            if self._known is not None and version == self._version:
                return self._known
            ets = await conn.fetch(
                "SELECT numero_finess_etablissement_territorial AS n, numero_finess_entite_juridique AS ej "
                "FROM etablissement_territorial WHERE NOT caduc"
            )
            ejs = await conn.fetch("SELECT numero_finess_entite_juridique AS n FROM entite_juridique")
        self._known = KnownFiness(
            frozenset(r["n"] for r in ets),
            frozenset(r["n"] for r in ejs),
            {r["n"]: r["ej"] for r in ets},
        )
        self._version = version
        return self._known
