"""The local platform key pair, standing in for the production key DIAMANT encrypts to (RSA 2048, no passphrase,
OpenPGP RFC 4880 packets with MDC, as GnuPG 2.2 produces)."""

from __future__ import annotations

from pathlib import Path

import pysequoia


def ensure_platform_key(keys_dir: Path) -> tuple[Path, Path]:
    """(private key file, public key file), created once."""
    private, public = keys_dir / "diamant-private.asc", keys_dir / "diamant-public.asc"
    if not private.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        tsk = pysequoia.Tsk.generate(
            "Relais local platform <diamant@relais.invalid>",
            cipher_suite=pysequoia.CipherSuite.RSA2k,
            profile=pysequoia.Profile.RFC4880,
        )
        private.write_text(str(tsk))
        private.chmod(0o600)
        public.write_text(str(tsk.extract_certificate()))
    return private, public


def encrypt_to(public_key: Path, plaintext: Path, encrypted: Path) -> Path:
    cert = pysequoia.Cert.from_file(str(public_key))
    pysequoia.encrypt_file(str(plaintext), str(encrypted), recipients=[cert], armor=False)
    return encrypted
