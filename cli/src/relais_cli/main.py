"""relais — operate the Relais stack.

relais up | down | status            the local stack (Kafka, PostgreSQL, SFTP inbox and the five services)
relais service run NAME              run one service in the foreground
relais lag                           consumer-group lag per topic
relais trace [TRACE_ID]              print one trace as a tree with durations (no id: the recent traces)
relais db migrate                    apply pending schema migrations
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

import relais_stack as stack
from relais_cli.generate import generate_app
from relais_cli.rpu import rpu_app
from relais_cli.seed import seed_inboxes
from relais_fetcher.settings import SftpSettings
from relais_platform.database import apply_migrations
from relais_platform.heartbeat import read_status
from relais_platform.settings import PlatformSettings
from relais_platform.topics import ensure_topics
from relais_platform.tracefile import read_spans, recent_traces, render_tree

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
service_app = typer.Typer(help="One service at a time.", no_args_is_help=True)
db_app = typer.Typer(help="The PostgreSQL schema.", no_args_is_help=True)
app.add_typer(service_app, name="service")
app.add_typer(db_app, name="db")
app.add_typer(generate_app, name="generate")
app.add_typer(rpu_app, name="rpu")


def _settings() -> PlatformSettings:
    return PlatformSettings()


def main() -> None:
    """The `relais` command: outside a checkout, the local-stack commands say so in one line, not a traceback."""
    try:
        app()
    except (stack.CheckoutNotFound, stack.InfraError) as error:
        raise SystemExit(f"relais: {error}") from None


def _migrations_dir() -> Path:
    return stack.migrations_dir()


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (deploy/postgres/migrations) to DATABASE_URL."""
    applied = apply_migrations(_settings().database.database_url, _migrations_dir())
    typer.echo(f"migrations applied: {', '.join(applied)}" if applied else "schema up to date")


@app.command()
def up(services: bool = typer.Option(True, help="Also start the five services.")) -> None:
    """Start the local infrastructure, apply migrations, create topics, start the services."""
    settings = _settings()
    for name in stack.INFRA:
        ok, output = stack.run_infra(name, "start")
        typer.echo(output)
        if not ok:
            raise typer.Exit(1)
    db_migrate()
    created = asyncio.run(ensure_topics(settings.kafka.bootstrap_servers, settings.kafka.all_topics()))
    typer.echo(f"topics created: {len(created)}" if created else "topics present")
    if services:
        for service in stack.SERVICES:
            pid = stack.start_service(settings.storage.var_dir, service)
            typer.echo(
                f"{service}: started (pid {pid}), log {settings.storage.var_dir / 'log' / service}.log"
            )


@app.command()
def seed() -> None:
    """Drop synthetic files in the local SFTP inboxes (FINESS referential, encrypted DIAMANT extracts)."""
    for path in seed_inboxes(_settings().storage.var_dir):
        typer.echo(f"seeded {path}")


@app.command()
def down(infra: bool = typer.Option(True, help="Also stop Kafka, PostgreSQL and the SFTP server.")) -> None:
    """Stop the services (gracefully), then the local infrastructure."""
    var = _settings().storage.var_dir
    for service in reversed(stack.SERVICES):
        typer.echo(f"{service}: {'stopped' if stack.stop_service(var, service) else 'not running'}")
    if infra:
        for name in reversed(stack.INFRA):
            typer.echo(stack.run_infra(name, "stop")[1])


@app.command()
def status() -> None:
    """Whether Kafka, PostgreSQL and the DIAMANT SFTP server are reachable, and the health each service reports."""
    from relais_cli.probes import kafka_reachable, postgres_reachable, ssh_reachable

    settings = _settings()
    sftp = SftpSettings()

    async def probe() -> list[tuple[str, tuple[bool, str]]]:
        return [
            ("kafka", await kafka_reachable(settings.kafka.bootstrap_servers)),
            ("postgres", await postgres_reachable(settings.database.database_url)),
            ("sftp", await ssh_reachable(sftp.host, sftp.port)),
        ]

    healthy = True
    for name, (ok, detail) in asyncio.run(probe()):
        healthy &= ok
        typer.echo(f"{name}: {detail}")
    for service in stack.SERVICES:
        state, raw = read_status(settings.storage.run_dir, service)
        checks = raw.get("checks")
        detail = (
            ", ".join(f"{k} {'ok' if v else 'KO'}" for k, v in checks.items())
            if isinstance(checks, dict)
            else ""
        )
        typer.echo(f"{service}: {state}" + (f" ({detail})" if detail else ""))
        healthy &= state == "healthy"
    raise typer.Exit(0 if healthy else 1)


@service_app.command("run")
def service_run(name: str) -> None:
    """Run one service in the foreground (Ctrl-C stops it gracefully)."""
    if name not in stack.SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(stack.SERVICES)}")
    os.execv(stack.service_executable(name), [stack.service_executable(name)])


@app.command()
def lag() -> None:
    """Consumer-group lag per topic and partition."""
    from relais_cli.lag import consumer_lag

    rows = asyncio.run(consumer_lag(_settings().kafka.bootstrap_servers))
    if not rows:
        typer.echo("no consumer group has committed offsets yet")
        return
    typer.echo(f"{'group':<28} {'topic':<34} {'part':>4} {'committed':>10} {'end':>10} {'lag':>8}")
    for row in rows:
        typer.echo(
            f"{row.group:<28} {row.topic:<34} {row.partition:>4} {row.committed:>10} {row.end:>10} {row.lag:>8}"
        )


@app.command()
def trace(trace_id: str = typer.Argument(None, help="32 hex digits; omit to list recent traces")) -> None:
    """Print a trace from the local span files as a tree with durations."""
    trace_dir = _settings().trace_dir
    if not trace_id:
        for found, root, count in recent_traces(trace_dir):
            typer.echo(f"{found}  {count:>3} spans  {root}")
        return
    spans = read_spans(trace_dir, trace_id)
    if not spans:
        typer.echo(f"no span of trace {trace_id} in {trace_dir}", err=True)
        raise typer.Exit(1)
    typer.echo(render_tree(spans))
