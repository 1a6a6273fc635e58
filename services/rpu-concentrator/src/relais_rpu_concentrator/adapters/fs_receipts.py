"""Receipts written into the establishment's accuses/ folder of the SFTP intake (layout in intake/paths.py).

Written to a temporary file in the establishment's archive folder (never shown over SFTP) and renamed into place:
an establishment listing accuses/ never sees a half-written receipt, and a rewrite after a redelivery replaces
the file with identical content.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from relais_rpu_concentrator.intake.paths import (
    ARCHIVE,
    ensure_establishment_dirs,
    ensure_real_dir,
    receipt_path,
)


def _write(intake_root: Path, finess: str, name: str, text: str) -> None:
    intake_root.mkdir(
        parents=True, exist_ok=True
    )  # the intake server makes it too; integration may run alone
    home = ensure_establishment_dirs(intake_root, finess)
    target = receipt_path(intake_root, finess, name)
    scratch = home / ARCHIVE
    ensure_real_dir(scratch)
    fd, tmp = tempfile.mkstemp(dir=scratch, prefix=".receipt-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FileSystemReceipts:
    def __init__(self, intake_root: Path) -> None:
        self._root = intake_root

    async def write(self, finess: str, name: str, text: str) -> None:
        await asyncio.to_thread(_write, self._root, finess, name, text)
