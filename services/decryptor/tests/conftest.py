import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class GpgKey:
    home: Path
    email: str
    secret_armored: bytes

    def encrypt(self, plaintext: Path, out: Path) -> Path:
        subprocess.run(
            ["gpg", "--batch", "--yes", "--trust-model", "always", "-r", self.email, "-o", str(out), "-e",
             str(plaintext)],
            check=True, capture_output=True, env={**os.environ, "GNUPGHOME": str(self.home)},
        )
        return out


def _make_key(home: Path, email: str) -> GpgKey:
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"Relais test <{email}>", "rsa2048", "encr", "never"],
        check=True, capture_output=True, env=env,
    )
    secret = subprocess.run(
        ["gpg", "--batch", "--armor", "--export-secret-keys", email], check=True, capture_output=True, env=env
    ).stdout
    return GpgKey(home, email, secret)


@pytest.fixture(scope="session")
def platform_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    """The platform's key pair, made by GnuPG itself (DIAMANT encrypts with GnuPG-compatible tools)."""
    return _make_key(tmp_path_factory.mktemp("gpg") / "home", "diamant@relais.invalid")


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    return _make_key(tmp_path_factory.mktemp("gpg-other") / "home", "someone-else@relais.invalid")
