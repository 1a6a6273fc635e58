"""relais rpu — the RPU concentrator's intake accounts and transmission statistics.

relais rpu account add FINESS --key PATH [--password]     an establishment's SFTP account, named by its FINESS
relais rpu account add --ars NAME --key PATH [--password] a read-only ARS account
relais rpu account list
relais rpu account disable NAME
relais rpu stats --month 2026-09 [--daily]                 files and RPU per establishment for the month
relais rpu export atih --month 2026-09 [--revision 2]      the ATIH monthly export (cumulative, anonymised), now
relais rpu export ars --day 2026-11-25                     the ARS daily extract (CSV, Parquet, statistics), now
relais rpu replay request --finess F --from D --to D --by NAME   ask a replay (reprise); says if it is needed
relais rpu replay list [--open] | show ID                  replay requests, one with its audit trail
relais rpu transition [--as-of D] [--days 7]               consecutive correct days, may it switch concentrator

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


replay_app = typer.Typer(
    help="Replays (reprises) asked by the ARS: a FINESS × period retransmitted to Santé publique France.",
    no_args_is_help=True,
)
rpu_app.add_typer(replay_app, name="replay")

if TYPE_CHECKING:
    from relais_rpu_concentrator.replay.model import ReplayRequest
    from relais_rpu_concentrator.replay.replays import Replays


def _with_replays(work: Callable[[Replays], Awaitable[T]]) -> T:
    import asyncpg

    from relais_rpu_concentrator.adapters.pg_replay import postgres_replays

    async def run() -> T:
        conn = await asyncpg.connect(DatabaseSettings().database_url)
        try:
            return await work(postgres_replays(conn))
        finally:
            await conn.close()

    return asyncio.run(run())


def _replay_line(r: ReplayRequest) -> str:
    p = r.period
    return (
        f"{r.request_id:>6} {p.finess:<10} {p.first_day:%d/%m/%Y} {p.last_day:%d/%m/%Y} "
        f"{'oui' if r.needed else 'non':<6} {r.state.value:<14} {r.export_id or '':<16} "
        f"{r.requested_by} {r.requested_at:%Y-%m-%d %H:%M}"
    )


_REPLAY_HEADER = (
    f"{'id':>6} {'FINESS':<10} {'du':<10} {'au':<10} {'utile':<6} {'état':<14} {'export':<16} demandé par"
)


@replay_app.command("request")
def replay_request(
    finess: Annotated[str, typer.Option("--finess", help="FINESS géographique of the establishment.")],
    first: Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day of the period (included), YYYY-MM-DD.")],
    by: Annotated[str, typer.Option("--by", help="Who asks (recorded in the audit trail).")],
) -> None:
    """Request the replay of a FINESS × period; says whether it is needed. Asking again changes nothing."""
    from datetime import date

    from relais_rpu_concentrator.replay.model import InvalidReplayRequest

    try:
        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    try:
        request, created = _with_replays(lambda r: r.request(finess, first_day, last_day, by))
    except InvalidReplayRequest as error:
        typer.echo(f"erreur : {error}", err=True)
        raise typer.Exit(1) from None
    verb = "enregistrée" if created else "déjà enregistrée (inchangée)"
    typer.echo(f"demande {request.request_id} {verb} — état {request.state.value}")
    typer.echo(request.reason)


@replay_app.command("list")
def replay_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only requests not closed yet.")] = False,
) -> None:
    """Every replay request, most recent first."""
    requests = _with_replays(lambda r: r.requests(open_only=open_only))
    if not requests:
        typer.echo("aucune demande de reprise")
        return
    typer.echo(_REPLAY_HEADER)
    for request in requests:
        typer.echo(_replay_line(request))


@replay_app.command("show")
def replay_show(request_id: int) -> None:
    """One request, its assessment and its audit trail (who, what, when)."""
    found = _with_replays(lambda r: r.get(request_id))
    if found is None:
        typer.echo(f"erreur : demande {request_id} inconnue", err=True)
        raise typer.Exit(1)
    request, trail = found
    typer.echo(_REPLAY_HEADER)
    typer.echo(_replay_line(request))
    typer.echo(f"\n{request.reason}")
    if request.missing_days:
        typer.echo(f"jours manquants à la demande : {len(request.missing_days)}")
    typer.echo("\njournal :")
    for entry in trail:
        typer.echo(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:<20} {entry.action:<14} {entry.detail}")


@rpu_app.command("transition")
def transition(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day counted, YYYY-MM-DD (default: yesterday).")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Correct days needed to switch.")] = 7,
) -> None:
    """Change of concentrator: per establishment, its consecutive days of correct operation and whether it may
    switch (a day is correct when an integrated file covered it and its count is not suspicious)."""
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    import asyncpg

    from relais_rpu_concentrator.adapters.pg_transition import transition_statuses
    from relais_rpu_concentrator.transition.model import render_transition

    try:
        last = (
            date.fromisoformat(as_of)
            if as_of
            else datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None

    async def run() -> str:
        conn = await asyncpg.connect(DatabaseSettings().database_url)
        try:
            return render_transition(await transition_statuses(conn, last, required_days=days))
        finally:
            await conn.close()

    typer.echo(asyncio.run(run()), nl=False)
