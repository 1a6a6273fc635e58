"""Where the Relais checkout is: the deploy/ scripts and migrations the local stack runs from live there."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("deploy") / "kafka" / "kafka.sh"


class CheckoutNotFound(RuntimeError):
    """Neither the working directory nor this package sits inside a Relais checkout."""


def project_root(start: Path | None = None) -> Path:
    """The checkout holding deploy/: found from `start` (default the working directory) upwards, else from this
    package's own location (an editable install inside the checkout)."""
    here = (start or Path.cwd()).resolve()
    for origin in (here, Path(__file__).resolve().parent):
        for candidate in (origin, *origin.parents):
            if (candidate / _MARKER).exists():
                return candidate
    raise CheckoutNotFound(f"no Relais checkout (deploy/ not found) above {here}: run this from the checkout")


def deploy_dir() -> Path:
    return project_root() / "deploy"


def migrations_dir() -> Path:
    """The versioned schema migrations (yoyo, plain SQL)."""
    return deploy_dir() / "postgres" / "migrations"


def var_dir() -> Path:
    """Local state as the deploy/ scripts see it: RELAIS_VAR_DIR, else the checkout's var/."""
    configured = os.environ.get("RELAIS_VAR_DIR")
    return Path(configured) if configured else project_root() / "var"
