"""relais rpu — the RPU concentrator's intake accounts and transmission statistics.

relais rpu account add FINESS --key PATH [--password]     an establishment's SFTP account, named by its FINESS
relais rpu account add --ars NAME --key PATH [--password] a read-only ARS account
relais rpu account list
relais rpu account disable NAME
relais rpu stats --month 2026-09 [--daily]                 files and RPU per establishment for the month

Accounts are written, and statistics read, through the concentrator's own modules, at DATABASE_URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from relais_platform.settings import DatabaseSettings

if TYPE_CHECKING:
    from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts

T = TypeVar("T")

rpu_app = typer.Typer(
    help="The RPU concentrator: intake accounts, transmission statistics.", no_args_is_help=True
)
account_app = typer.Typer(help="SFTP intake accounts (establishments and ARS).", no_args_is_help=True)
rpu_app.add_typer(account_app, name="account")


def _with_accounts(work: Callable[[PostgresAccounts], Awaitable[T]]) -> T:
    # Imported here: `relais --help` must not pay for asyncssh, nor fail when the concentrator is not installed.
    import asyncpg

    from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts

    async def run() -> T:
        conn = await asyncpg.connect(DatabaseSettings().database_url)
        try:
            return await work(PostgresAccounts(conn))
        finally:
            await conn.close()

    return asyncio.run(run())


@account_app.command("add")
def account_add(
    key: Annotated[
        list[Path],
        typer.Option("--key", exists=True, dir_okay=False, help="OpenSSH public key file (repeatable)."),
    ],
    finess: Annotated[str | None, typer.Argument(help="FINESS géographique of the establishment.")] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Also set a password (prompted, stored hashed).")
    ] = False,
    ars: Annotated[
        str | None, typer.Option("--ars", help="Create a read-only ARS account with this name.")
    ] = None,
) -> None:
    """Create an account: an establishment's (FINESS) or, with --ars, an ARS reader's."""
    from relais_rpu_concentrator.adapters.pg_accounts import AccountExists
    from relais_rpu_concentrator.intake.accounts import (
        InvalidAccount,
        ars_account,
        establishment_account,
        read_public_keys,
    )

    if (finess is None) == (ars is None):
        raise typer.BadParameter("give either a FINESS or --ars NAME, not both")
    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    try:
        keys = read_public_keys(key)
        account = (
            establishment_account(finess, keys, secret)
            if finess is not None
            else ars_account(ars or "", keys, secret)
        )
        created = _with_accounts(lambda accounts: accounts.add(account))
    except (InvalidAccount, AccountExists) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"account {created.name} created ({created.role.value}, {len(created.public_keys)} key(s)"
        f"{', password' if created.password_hash else ''})"
    )


@account_app.command("list")
def account_list() -> None:
    """Every account, active or disabled."""
    accounts = _with_accounts(lambda store: store.list_all())
    if not accounts:
        typer.echo("no account")
        return
    typer.echo(f"{'account':<24} {'role':<14} {'keys':>4} {'password':<8} {'state':<8} created")
    for a in accounts:
        state = "active" if a.active else "disabled"
        created = a.created_at.strftime("%Y-%m-%d %H:%M") if a.created_at else ""
        password = "yes" if a.password_hash else "no"
        typer.echo(
            f"{a.name:<24} {a.role.value:<14} {len(a.public_keys):>4} {password:<8} {state:<8} {created}"
        )


@account_app.command("disable")
def account_disable(name: str) -> None:
    """Disable an account: its next login is refused. Accounts are kept, never deleted."""
    disabled = _with_accounts(lambda accounts: accounts.disable(name))
    if disabled is None:
        typer.echo(f"error: no account {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"account {name} disabled")


@rpu_app.command("stats")
def stats(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM (e.g. 2026-09).")],
    daily: Annotated[bool, typer.Option("--daily", help="Also print the RPU count of every day.")] = False,
) -> None:
    """Per establishment and month: files received (integrated, rejected, superseded) and RPU held; daily counts."""
    import asyncpg

    from relais_rpu_concentrator.adapters.pg_stats import month_stats
    from relais_rpu_concentrator.stats.model import parse_month
    from relais_rpu_concentrator.stats.table import render_daily, render_month

    try:
        first = parse_month(month)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None

    async def run() -> str:
        conn = await asyncpg.connect(DatabaseSettings().database_url)
        try:
            result = await month_stats(conn, first)
        finally:
            await conn.close()
        return render_month(result) + (("\n" + render_daily(result)) if daily else "")

    typer.echo(asyncio.run(run()), nl=False)
