"""Encrypt synthetic extracts to the platform's public key the way DIAMANT does: GnuPG, RSA, an integrity-protected
data packet (SEIPD v1 with MDC, as GnuPG 2.2 writes it), `<PREFIX>_YYYY_MM_DD.CSV.gpg`.

GnuPG is used when installed, in a throw-away home holding only the public key. Without it, Sequoia (pysequoia)
encrypts instead; it then writes the newest packets the certificate advertises (SEIPD v2 for a certificate made
by Sequoia), which the decryptor reads as well but which DIAMANT itself never sends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Literal

Engine = Literal["auto", "gnupg", "sequoia"]


def encrypted_name(plaintext: Path) -> str:
    """`ANN_RPU_2025_11_03.CSV` → `ANN_RPU_2025_11_03.CSV.gpg`."""
    return plaintext.name + ".gpg"


class ExtractEncryptor:
    """Encrypts files to one public key; use as a context manager (GnuPG needs a home for the key)."""

    def __init__(self, public_key: Path, engine: Engine = "auto") -> None:
        self.public_key = public_key
        self.engine: Engine = engine if engine != "auto" else ("gnupg" if shutil.which("gpg") else "sequoia")
        self._home: tempfile.TemporaryDirectory[str] | None = None
        self._recipient = ""

    def __enter__(self) -> ExtractEncryptor:
        if self.engine == "gnupg":
            # A short path: gpg-agent's socket must fit in a sockaddr_un.
            self._home = tempfile.TemporaryDirectory(prefix="relais-gpg-", dir="/tmp")
            self._gpg("--import", str(self.public_key))
            listing = self._gpg("--with-colons", "--list-keys").stdout
            fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
            if not fingerprints:
                raise ValueError(f"{self.public_key}: aucune clé publique OpenPGP lisible")
            self._recipient = fingerprints[0]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._home is not None:
            subprocess.run(["gpgconf", "--kill", "all"], env=self._env(), capture_output=True, check=False)
            self._home.cleanup()
            self._home = None

    def _env(self) -> dict[str, str]:
        assert self._home is not None, "use ExtractEncryptor as a context manager"
        return {**os.environ, "GNUPGHOME": self._home.name}

    def _gpg(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["gpg", "--batch", "--quiet", "--no-tty", *args],
            env=self._env(),
            capture_output=True,
            text=True,
            check=True,
        )

    def encrypt(self, plaintext: Path, encrypted: Path) -> Path:
        if self.engine == "gnupg":
            self._gpg(
                "--yes", "--trust-model", "always", "--recipient", self._recipient,
                "--output", str(encrypted), "--encrypt", str(plaintext),
            )  # fmt: skip
        else:
            import pysequoia  # only this fallback needs it

            cert = pysequoia.Cert.from_file(str(self.public_key))
            pysequoia.encrypt_file(str(plaintext), str(encrypted), recipients=[cert], armor=False)
        return encrypted


def encrypt_extracts(
    files: Iterable[Path], public_key: Path, *, keep_plaintext: bool = False, engine: Engine = "auto"
) -> list[Path]:
    """Each file encrypted next to itself as `<name>.gpg`; the plaintext removed unless asked to keep it."""
    done = []
    with ExtractEncryptor(public_key, engine) as encryptor:
        for plaintext in files:
            done.append(encryptor.encrypt(plaintext, plaintext.with_name(encrypted_name(plaintext))))
            if not keep_plaintext:
                plaintext.unlink()
    return done
