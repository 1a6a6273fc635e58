"""Active establishments from PostgreSQL: the active intake accounts (rpu_account, migration 0020), named from the
FINESS referential when it knows them (etablissement_territorial, migration 0005)."""

from __future__ import annotations

import asyncpg

from relais_rpu_concentrator.outbound.absence import Establishment


class PostgresActiveEstablishments:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def active(self) -> list[Establishment]:
        rows = await self._pool.fetch(
            """SELECT a.finess, coalesce(et.raison_sociale_longue, et.raison_sociale) AS name
               FROM rpu_account a
               LEFT JOIN etablissement_territorial et ON et.numero_finess_etablissement_territorial = a.finess
               WHERE a.role = 'etablissement' AND a.active
               ORDER BY a.finess"""
        )
        return [Establishment(row["finess"], row["name"]) for row in rows]
