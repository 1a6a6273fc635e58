"""Key pairs of the local stack, made once under var/: the platform's OpenPGP key (standing in for the production key
DIAMANT encrypts to) and the SSH key of the synthetic establishments that push RPU files."""

from __future__ import annotations

from pathlib import Path


def ensure_platform_key(keys_dir: Path) -> tuple[Path, Path]:
    """(private key file, public key file) of an RSA 2048 key without passphrase, OpenPGP RFC 4880 packets with MDC
    as GnuPG 2.2 produces: created once."""
    import pysequoia  # only key creation needs it

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


def establishment_key(key_dir: Path) -> Path:
    """The synthetic establishments' SSH key pair (ed25519, private key mode 0600, `.pub` beside it), created once:
    the private key's path."""
    import asyncssh  # only key creation needs it

    private = key_dir / "establishment_ed25519"
    if not private.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="relais seeded establishments")
        private.touch(mode=0o600)
        private.write_bytes(key.export_private_key())
        private.with_suffix(".pub").write_bytes(key.export_public_key())
    return private
