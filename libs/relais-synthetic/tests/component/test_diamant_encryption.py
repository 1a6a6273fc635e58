"""Encrypted synthetic extracts decrypt back to the same CSV, with GnuPG as DIAMANT's recipients would and with
Sequoia as the decryptor does."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pysequoia
import pytest

from relais_diamant.sources import DiamantSource, match_file_name
from relais_stack.keys import ensure_platform_key
from relais_synthetic.diamant import establishments_from, write_diamant_files
from relais_synthetic.diamant.encrypt import ExtractEncryptor, encrypt_extracts
from relais_synthetic.finess import generate_referential
from relais_testing.gpg import make_gpg_key

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="GnuPG not installed")


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    establishments = establishments_from(generate_referential(5, 8), 5, sanitaires=3, medico_sociaux=3)
    [written] = write_diamant_files(
        establishments,
        tmp_path_factory.mktemp("plain"),
        seed=5,
        years=[2024],
        extraction_date=date(2025, 3, 10),
        sources=[DiamantSource.QUO_SAN_FINANCE],
    )
    return written.path


def _sequoia_decrypt(private_key: Path, encrypted: Path, out: Path) -> bytes:
    secret = pysequoia.Tsk.from_file(str(private_key))
    pysequoia.decrypt_file(str(encrypted), str(out), decryptor=secret.decryptor())
    return out.read_bytes()


@needs_gpg
def test_gnupg_encrypted_extract_decrypts_with_gnupg_and_uses_mdc_packets(
    extract: Path, tmp_path: Path
) -> None:
    key = make_gpg_key(tmp_path / "gnupg", "diamant-test@relais.invalid")
    env = {**os.environ, "GNUPGHOME": str(key.home)}
    public = tmp_path / "public.asc"
    public.write_bytes(
        subprocess.run(
            ["gpg", "--batch", "--armor", "--export", key.email], env=env, check=True, capture_output=True
        ).stdout
    )
    with ExtractEncryptor(public, engine="gnupg") as encryptor:
        encrypted = encryptor.encrypt(extract, tmp_path / (extract.name + ".gpg"))
    assert match_file_name(encrypted.name) == (DiamantSource.QUO_SAN_FINANCE, date(2025, 3, 10))
    packets = subprocess.run(
        ["gpg", "--batch", "--list-packets", str(encrypted)], env=env, capture_output=True, text=True
    )
    assert ":encrypted data packet:" in packets.stdout and "mdc_method: 2" in packets.stdout
    try:
        decrypted = subprocess.run(
            ["gpg", "--batch", "--decrypt", str(encrypted)], env=env, check=True, capture_output=True
        ).stdout
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
    assert decrypted == extract.read_bytes()


@needs_gpg
def test_gnupg_encrypted_extract_decrypts_with_the_platform_key_and_sequoia(
    extract: Path, tmp_path: Path
) -> None:
    private, public = ensure_platform_key(tmp_path / "keys")
    with ExtractEncryptor(public, engine="gnupg") as encryptor:
        encrypted = encryptor.encrypt(extract, tmp_path / (extract.name + ".gpg"))
    assert _sequoia_decrypt(private, encrypted, tmp_path / "back.csv") == extract.read_bytes()


def test_sequoia_fallback_round_trips_and_removes_the_plaintext(extract: Path, tmp_path: Path) -> None:
    private, public = ensure_platform_key(tmp_path / "keys")
    copy = tmp_path / extract.name
    shutil.copyfile(extract, copy)
    [encrypted] = encrypt_extracts([copy], public, engine="sequoia")
    assert encrypted.name == extract.name + ".gpg" and not copy.exists()
    assert _sequoia_decrypt(private, encrypted, tmp_path / "back.csv") == extract.read_bytes()
