"""Sample data for the local stack: what `make up` drops in the SFTP inboxes so the pipeline has work to show.

DIAMANT and the FINESS referential go to the local DNUM stand-in (files moved into its inboxes). RPU files go the
way establishments send them: a few establishment accounts are created on the running concentrator (one key pair
kept under var/rpu/seed/) and each pushes its last two 7-day rolling files over SFTP.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relais_platform.settings import DatabaseSettings
from relais_stack import InfraError, sftp_inbox, wait_for_port
from relais_stack.keys import ensure_platform_key, establishment_key
from relais_synthetic.diamant import Quirks, establishments_from, write_diamant_extracts
from relais_synthetic.finess import generate_referential, write_referential_files
from relais_synthetic.rpu import synthetic_region, write_rolling_file

if TYPE_CHECKING:
    from relais_rpu_concentrator.settings import IntakeSettings

SEED = 20261122
ENTITES = 60
# A few dozen sites of the same referential, so every DIAMANT row but the deliberate unknown ones finds its FINESS.
DIAMANT_SANITAIRES, DIAMANT_MEDICO_SOCIAUX = 12, 24
# Three EDs of Alsace and one of Paris, so both file-name conventions show; 2 % invalid records for the receipts.
RPU_ESTABLISHMENTS, RPU_DEPARTEMENTS, RPU_INVALID_SHARE = 4, ("67", "68", "75"), 0.02
RPU_SENDING_DAYS = 2


def _inbox(kind: str) -> Path:
    try:
        return sftp_inbox(kind)
    except InfraError as error:
        raise SystemExit(f"relais: the local SFTP server is not set up: {error}") from None


def _publish(files: list[Path], inbox: Path) -> list[Path]:
    """Move files into an inbox in one rename each, so the fetcher never sees a half-written file."""
    placed = []
    for path in files:
        target = inbox / path.name
        staging = inbox / f".{path.name}.part"
        shutil.copyfile(path, staging)
        shutil.chown(staging, "relais-dnum")
        staging.replace(target)
        placed.append(target)
    return placed


def write_seed_files(scratch: Path, public_key: Path, today: date) -> dict[str, list[Path]]:
    """Per inbox (FINESS, DIAMANT): the FINESS referential flux and one encrypted extract per DIAMANT source,
    six years up to today (annual sources stop at last year), with the real quirks."""
    finess = write_referential_files(scratch / "finess", ENTITES, SEED, today, opendata=False)
    sites = establishments_from(
        generate_referential(SEED, ENTITES), SEED, DIAMANT_SANITAIRES, DIAMANT_MEDICO_SOCIAUX
    )
    diamant = write_diamant_extracts(
        scratch / "diamant",
        sites,
        seed=SEED,
        years=list(range(today.year - 5, today.year + 1)),
        extraction_date=today,
        quirks=Quirks(),
        encrypt_to=public_key,
    )
    return {"FINESS": finess, "DIAMANT": [path for path, _ in diamant]}


async def wait_for_loads(database_url: str, names: list[str], timeout_s: float = 180.0) -> None:
    """Until the loader's ledger holds every one of `names` (loaded, or deliberately not)."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while await conn.fetchval(
            "SELECT count(*) FROM loaded_file WHERE file_name = ANY($1::text[])", names
        ) < len(names):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"relais seed: {', '.join(names)} not loaded after {timeout_s:.0f} s (see var/log/*.log)"
                )
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def seed_inboxes(var_dir: Path) -> list[Path]:
    """The referential first, and the DIAMANT extracts once it is loaded: a DIAMANT file is checked against the
    referential current when it is transformed, so extracts arriving first would find every FINESS unknown."""
    _, public_key = ensure_platform_key(var_dir / "keys")
    database_url = DatabaseSettings().database_url
    with tempfile.TemporaryDirectory() as scratch:
        files = write_seed_files(Path(scratch), public_key, date.today())
        placed = _publish(files["FINESS"], _inbox("FINESS"))
        asyncio.run(wait_for_loads(database_url, [path.name for path in files["FINESS"]]))
        placed += _publish(files["DIAMANT"], _inbox("DIAMANT"))
    from relais_rpu_concentrator.settings import IntakeSettings

    intake = IntakeSettings()
    pushed = asyncio.run(seed_rpu_intake(intake, database_url, var_dir / "rpu" / "seed", date.today()))
    return placed + [intake.root / finess / "depot" / name for finess, name in pushed]


async def ensure_rpu_accounts(database_url: str, finess: list[str], public_key: Path) -> list[str]:
    """Create the establishments' accounts that do not exist yet; the names created."""
    import asyncpg

    from relais_rpu_concentrator.adapters.pg_accounts import AccountExists, PostgresAccounts
    from relais_rpu_concentrator.intake.accounts import establishment_account, read_public_keys

    keys = read_public_keys([public_key])
    created = []
    conn = await asyncpg.connect(database_url)
    try:
        accounts = PostgresAccounts(conn)
        for name in finess:
            try:
                await accounts.add(establishment_account(name, keys))
                created.append(name)
            except AccountExists:
                pass
    finally:
        await conn.close()
    return created


async def seed_rpu_intake(
    intake: IntakeSettings,
    database_url: str,
    key_dir: Path,
    today: date,
    *,
    port_timeout_s: float = 60.0,
) -> list[tuple[str, str]]:
    """Accounts for a few synthetic establishments, and their rolling files of yesterday and today pushed over
    SFTP to the running intake: (FINESS, file name) pushed. Deterministic: pushing again sends the same bytes,
    which the concentrator recognises (`already_integrated`)."""
    import asyncssh

    region = synthetic_region(SEED, RPU_ESTABLISHMENTS, RPU_DEPARTEMENTS, invalid_rate=RPU_INVALID_SHARE)
    private = establishment_key(key_dir)
    await ensure_rpu_accounts(
        database_url, [e.finess for e in region.establishments], private.with_suffix(".pub")
    )
    try:
        await wait_for_port(intake.host, intake.port, port_timeout_s)
    except TimeoutError as error:
        raise SystemExit(
            f"relais: the RPU concentrator's intake is not listening ({error}); see var/log/rpu-concentrator.log"
        ) from None
    host_public = intake.host_key.with_name(intake.host_key.name + ".pub")
    # The concentrator wrote its host key before listening: pin it rather than trust whatever answers.
    known_hosts: Any = ([asyncssh.read_public_key(host_public)], [], []) if host_public.exists() else None
    pushed = []
    with tempfile.TemporaryDirectory() as scratch:
        for establishment in region.establishments:
            async with (
                asyncssh.connect(
                    intake.host, port=intake.port, username=establishment.finess, client_keys=[str(private)],
                    known_hosts=known_hosts, agent_path=None, preferred_auth="publickey",
                ) as conn,
                conn.start_sftp_client() as sftp,
            ):  # fmt: skip
                for offset in range(RPU_SENDING_DAYS - 1, -1, -1):
                    day = today - timedelta(days=offset)
                    generated = write_rolling_file(region, establishment, day, Path(scratch))
                    await sftp.put(str(generated.path), f"depot/{generated.path.name}")
                    pushed.append((establishment.finess, generated.path.name))
                    print(f"rpu: {establishment.finess} pushed {generated.path.name} "
                          f"({generated.records} RPU) over SFTP", file=sys.stderr)  # fmt: skip
    return pushed
