"""relais rpu — the RPU concentrator's intake accounts and transmission statistics.

relais rpu account add FINESS --key PATH [--password]     an establishment's SFTP account, named by its FINESS
relais rpu account add --ars NAME --key PATH [--password] a read-only ARS account
relais rpu account list
relais rpu account disable NAME
relais rpu stats --month 2026-09 [--daily]                 files and RPU per establishment for the month
relais rpu export atih --month 2026-09 [--revision 2]      the ATIH monthly export (cumulative, anonymised), now
relais rpu export ars --day 2026-11-25                     the ARS daily extract (CSV, Parquet, statistics), now

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


export_app = typer.Typer(
    help="Run an onward export now, through the same delivery ledger as the service (never sent twice).",
    no_args_is_help=True,
)
rpu_app.add_typer(export_app, name="export")


def _report(report: object) -> None:
    delivered = getattr(report, "delivered", [])
    failed: dict[str, str] = getattr(report, "failed", {})
    for name in delivered:
        typer.echo(f"delivered {name}")
    for name, error in failed.items():
        typer.echo(f"NOT delivered {name}: {error}", err=True)
    if not delivered and not failed:
        typer.echo("nothing to send: already planned and delivered")
    if failed:
        raise typer.Exit(1)


@export_app.command("atih")
def export_atih(
    month: Annotated[str, typer.Option("--month", help="Month M, YYYY-MM: sends 1 January → end of M.")],
    revision: Annotated[
        int, typer.Option("--revision", min=1, help="2, 3…: a new export of the month after corrections.")
    ] = 1,
) -> None:
    """The ATIH monthly export (anonymised, cumulative), to RELAIS_RPU_ATIH_* (counts per FINESS in the manifest)."""
    from relais_platform.blobstore import FileSystemBlobStore
    from relais_platform.settings import StorageSettings
    from relais_rpu_concentrator.outbound import on_demand
    from relais_rpu_concentrator.outbound.settings import AtihDeliverySettings
    from relais_rpu_concentrator.stats.model import parse_month

    try:
        first = parse_month(month)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    blobs = FileSystemBlobStore(StorageSettings().blobs)
    report = asyncio.run(
        on_demand.export_atih(DatabaseSettings().database_url, blobs, AtihDeliverySettings(), first, revision)
    )
    _report(report)


@export_app.command("ars")
def export_ars(
    day: Annotated[str, typer.Option("--day", help="Day D, YYYY-MM-DD: the extract of 1 January → D−1.")],
) -> None:
    """The ARS daily export (CSV, Parquet, transmission statistics), to RELAIS_RPU_ARS_*."""
    from datetime import date

    from relais_platform.blobstore import FileSystemBlobStore
    from relais_platform.settings import StorageSettings
    from relais_rpu_concentrator.outbound import on_demand
    from relais_rpu_concentrator.outbound.settings import ArsDeliverySettings

    try:
        when = date.fromisoformat(day)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    blobs = FileSystemBlobStore(StorageSettings().blobs)
    report = asyncio.run(
        on_demand.export_ars(DatabaseSettings().database_url, blobs, ArsDeliverySettings(), when)
    )
    _report(report)
