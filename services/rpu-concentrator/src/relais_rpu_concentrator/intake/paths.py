"""The intake folder layout on disk, and the naming rules every component agrees on.

```
<intake_root>/<FINESS>/depot/      the establishment writes its RPU files here (write-only for it)
<intake_root>/<FINESS>/accuses/    receipts (accusés de réception), written by the concentrator, read-only for it
<intake_root>/<FINESS>/.archive/<yyyymmdd>/<HHMMSSffffff>_<file name>
                                   files already received, moved out of the depot; never visible over SFTP
```
Received files are archived rather than left in the depot: the depot then holds only files not yet received (in
transfer, or left by an interrupted one), a name reused the next day cannot collide with a received file, and
the establishment's listing says plainly what is still pending. The bytes themselves live in the blob store.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from relais_finess import check

DEPOT = "depot"
ACCUSES = "accuses"
ARCHIVE = ".archive"
AREAS = (DEPOT, ACCUSES)
MAX_NAME_BYTES = 255

# Names under which clients upload before renaming to the final name (WinSCP uses .filepart).
TEMPORARY_SUFFIXES = (".tmp", ".part", ".filepart")


class UnsafeName(ValueError):
    """A file name that cannot be a plain file of a folder (separator, control character, '.', '..', too long)."""


def check_file_name(name: str) -> str:
    """The name itself when it names a plain entry of one folder; raises UnsafeName otherwise."""
    if name in ("", ".", ".."):
        raise UnsafeName(f"nom de fichier invalide : {name!r}")
    if "/" in name or "\\" in name or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UnsafeName(f"nom de fichier invalide (séparateur ou caractère de contrôle) : {name!r}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UnsafeName(f"nom de fichier trop long (plus de {MAX_NAME_BYTES} octets)")
    return name


def is_temporary_name(name: str) -> bool:
    """A name a client writes to before renaming: never received under it (hidden files and *.tmp / *.part)."""
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


def _valid_finess(finess: str) -> str:
    result = check(finess)
    if not result.valid:
        raise ValueError(f"FINESS {finess!r} invalide : {result.reason}")
    return finess


def establishment_dir(intake_root: Path, finess: str) -> Path:
    return intake_root / _valid_finess(finess)


def receipt_path(intake_root: Path, finess: str, file_name: str) -> Path:
    """Where the receipt (accusé de réception) named `file_name` for this establishment is to be written."""
    return establishment_dir(intake_root, finess) / ACCUSES / check_file_name(file_name)


def archive_path(intake_root: Path, finess: str, file_name: str, received_at: datetime) -> Path:
    day = received_at.strftime("%Y%m%d")
    stamp = received_at.strftime("%H%M%S%f")
    return establishment_dir(intake_root, finess) / ARCHIVE / day / f"{stamp}_{check_file_name(file_name)}"


def ensure_real_dir(path: Path) -> None:
    """Create `path` if missing; refuse it when it is a symbolic link or not a directory (never follow links)."""
    try:
        path.mkdir(mode=0o750)
    except FileExistsError:
        pass
    mode = os.lstat(path).st_mode
    if not stat.S_ISDIR(mode):
        raise PermissionError(f"{path}: n'est pas un dossier réel (lien symbolique ou fichier)")


def ensure_establishment_dirs(intake_root: Path, finess: str) -> Path:
    """The establishment's folder with its depot and receipts folders, created on first use.

    The intake root itself may be a link (operators mount it where they like); nothing below it may be.
    """
    home = establishment_dir(intake_root, finess)
    ensure_real_dir(home)
    for area in AREAS:
        ensure_real_dir(home / area)
    return home
