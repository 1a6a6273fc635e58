"""What `relais seed` drops: one encrypted extract per DIAMANT source, consistent with the seeded referential."""

from __future__ import annotations

import gzip
import re
from datetime import date
from pathlib import Path

import pysequoia

from relais_cli.seed import write_seed_files
from relais_diamant.sources import DiamantSource, match_file_name
from relais_stack.keys import ensure_platform_key


def test_seed_files_are_one_encrypted_extract_per_source_on_the_seeded_referential(tmp_path: Path) -> None:
    private, public = ensure_platform_key(tmp_path / "keys")
    today = date(2026, 11, 25)
    files = write_seed_files(tmp_path / "scratch", public, today)
    assert {match_file_name(path.name) for path in files["DIAMANT"]} == {(s, today) for s in DiamantSource}
    referential = set()
    for flux in files["FINESS"]:
        referential |= set(re.findall(r"<nofiness(?:et)?>(\w+)</", gzip.open(flux, "rt").read()))
    secret = pysequoia.Tsk.from_file(str(private))
    for encrypted in files["DIAMANT"]:
        plain = tmp_path / encrypted.stem
        pysequoia.decrypt_file(str(encrypted), str(plain), decryptor=secret.decryptor())
        header, *rows = [line.split(";") for line in plain.read_text(encoding="utf-8").splitlines()]
        finess = [header.index(label) for label in ("Finess", "Finess ET") if label in header]
        numbers = [row[i] for row in rows for i in finess if row[i]]
        known = [number for number in numbers if number in referential]
        # All known but the few deliberate unknown numbers (one forced per file, then a small share).
        assert rows and len(numbers) - len(known) <= 1 + len(rows) // 50, encrypted.name
