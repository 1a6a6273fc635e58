"""Sample data for the local stack: what `make up` drops in the SFTP inboxes so the pipeline has work to show."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from relais_cli import stack
from relais_cli.generate import write_finess_files
from relais_cli.keys import ensure_platform_key

SEED = 20261122
ENTITES = 60


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


def seed_inboxes(var_dir: Path) -> list[Path]:
    ensure_platform_key(var_dir / "keys")
    with tempfile.TemporaryDirectory() as scratch:
        finess = write_finess_files(Path(scratch), ENTITES, SEED, date.today(), opendata=False)
        return _publish(finess, _inbox("FINESS"))
