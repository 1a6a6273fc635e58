"""OpenPGP keys and files made by GnuPG itself, as DIAMANT's are (tests only; the services never call gpg)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GpgKey:
    home: Path
    email: str
    secret_armored: bytes

    def _env(self) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": str(self.home)}

    def encrypt(self, plaintext: Path, out: Path) -> Path:
        subprocess.run(
            [
                "gpg",
                "--batch",
                "--yes",
                "--trust-model",
                "always",
                "-r",
                self.email,
                "-o",
                str(out),
                "-e",
                str(plaintext),
            ],
            check=True,
            capture_output=True,
            env=self._env(),
        )
        return out


def make_gpg_key(home: Path, email: str) -> GpgKey:
    """An RSA 2048 encryption key without passphrase, as the platform's production key."""
    home.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            f"Relais test <{email}>",
            "rsa2048",
            "encr",
            "never",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    secret = subprocess.run(
        ["gpg", "--batch", "--armor", "--export-secret-keys", email], check=True, capture_output=True, env=env
    ).stdout
    return GpgKey(home, email, secret)
