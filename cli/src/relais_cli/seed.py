"""Sample data for the local stack: what `make up` drops in the SFTP inboxes so the pipeline has work to show."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from relais_cli import stack
from relais_cli.generate import write_diamant_extracts, write_finess_files
from relais_cli.keys import ensure_platform_key
from relais_diamant.synthetic import Quirks, establishments_from
from relais_finess.synthetic import generate_referential

SEED = 20261122
ENTITES = 60
# A few dozen sites of the same referential, so every DIAMANT row but the deliberate unknown ones finds its FINESS.
DIAMANT_SANITAIRES, DIAMANT_MEDICO_SOCIAUX = 12, 24


def _inbox(kind: str) -> Path:
    ok, output = stack.run_infra("sftp", "inbox", kind)
    if not ok:
        raise SystemExit(f"relais: the local SFTP server is not set up: {output}")
    return Path(output.splitlines()[-1])


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
    finess = write_finess_files(scratch / "finess", ENTITES, SEED, today, opendata=False)
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


def seed_inboxes(var_dir: Path) -> list[Path]:
    _, public_key = ensure_platform_key(var_dir / "keys")
    with tempfile.TemporaryDirectory() as scratch:
        files = write_seed_files(Path(scratch), public_key, date.today())
        return [placed for kind, paths in files.items() for placed in _publish(paths, _inbox(kind))]
