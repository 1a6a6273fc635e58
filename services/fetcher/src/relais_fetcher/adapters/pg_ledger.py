from __future__ import annotations

from relais_fetcher.ports import RemoteFile
from relais_platform.runtime import DatabaseHandle


class PostgresFetchLedger:
    def __init__(self, db: DatabaseHandle) -> None:
        self._db = db

    async def seen_unchanged(self, remote: RemoteFile) -> bool:
        found = await self._db.pool.fetchval(
            "SELECT 1 FROM fetched_file WHERE file_name = $1 AND size = $2 AND remote_mtime = $3",
            remote.name,
            remote.size,
            remote.mtime,
        )
        return found is not None

    async def seen_content(self, file_name: str, sha256: str) -> bool:
        found = await self._db.pool.fetchval(
            "SELECT 1 FROM fetched_file WHERE file_name = $1 AND sha256 = $2", file_name, sha256
        )
        return found is not None

    async def record(self, remote: RemoteFile, sha256: str, source_system: str) -> bool:
        inserted = await self._db.pool.fetchval(
            # xmax = 0 only on a row this statement inserted (an update of a known file sets it).
            """INSERT INTO fetched_file (source_system, file_name, sha256, size, remote_path, remote_mtime)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (file_name, sha256) DO UPDATE SET remote_mtime = EXCLUDED.remote_mtime
               RETURNING (xmax = 0)""",
            source_system,
            remote.name,
            sha256,
            remote.size,
            remote.path,
            remote.mtime,
        )
        return bool(inserted)
