"""Intake accounts in PostgreSQL (table rpu_account, migration 0020); used by the server and by `relais rpu`."""

from __future__ import annotations

from typing import Any

from relais_rpu_concentrator.intake.accounts import Account, Role

_COLUMNS = "account, role, finess, public_keys, password_hash, active, created_at, disabled_at"


class AccountExists(ValueError):
    pass


def _account(row: Any) -> Account:
    return Account(
        name=row["account"],
        role=Role(row["role"]),
        finess=row["finess"],
        public_keys=tuple(row["public_keys"] or ()),
        password_hash=row["password_hash"],
        active=row["active"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


class PostgresAccounts:
    """Works on an asyncpg pool (the service) or a single connection (the CLI): both offer fetch/fetchrow."""

    def __init__(self, db: Any) -> None:
        self._db = db

    async def find(self, name: str) -> Account | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM rpu_account WHERE account = $1", name)
        return None if row is None else _account(row)

    async def add(self, account: Account) -> Account:
        row = await self._db.fetchrow(
            f"""INSERT INTO rpu_account (account, role, finess, public_keys, password_hash, active)
                VALUES ($1, $2, $3, $4, $5, true)
                ON CONFLICT (account) DO NOTHING
                RETURNING {_COLUMNS}""",
            account.name,
            account.role.value,
            account.finess,
            list(account.public_keys),
            account.password_hash,
        )
        if row is None:
            raise AccountExists(f"le compte {account.name} existe déjà")
        return _account(row)

    async def list_all(self) -> list[Account]:
        rows = await self._db.fetch(f"SELECT {_COLUMNS} FROM rpu_account ORDER BY role, account")
        return [_account(row) for row in rows]

    async def disable(self, name: str) -> Account | None:
        """Disable an account (kept, never deleted, for the audit trail); None when it does not exist."""
        row = await self._db.fetchrow(
            f"""UPDATE rpu_account SET active = false, disabled_at = coalesce(disabled_at, now())
                WHERE account = $1 RETURNING {_COLUMNS}""",
            name,
        )
        return None if row is None else _account(row)
