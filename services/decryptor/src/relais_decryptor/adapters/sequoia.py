"""OpenPGP decryption with Sequoia (pysequoia): streaming, integrity-protected packets (SEIPD/MDC) enforced."""

from __future__ import annotations

from pathlib import Path

import pysequoia

from relais_decryptor.ports import DecryptionFailed

# Sequoia's messages, first line only (the rest is a Rust backtrace), mapped to words an operator can act on.
_REASONS = {
    "no key to decrypt message": "aucune clé privée ne correspond au destinataire du fichier (mauvaise clé)",
    "unexpected eof": "fichier tronqué (fin de données inattendue)",
    "malformed packet": "fichier corrompu (paquet OpenPGP invalide)",
    "truncated packet": "fichier tronqué ou corrompu",
    "mdc": "contrôle d'intégrité OpenPGP (MDC) en échec",
    "manipulated": "contrôle d'intégrité OpenPGP en échec (message altéré)",
}


def _reason(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for needle, reason in _REASONS.items():
        if needle in first.lower():
            return f"{reason} — {first}"
    # The key matched but the data did not decode: whatever layer noticed it, the file is damaged.
    return f"fichier endommagé (tronqué, corrompu ou altéré) — {first}"


class SequoiaDecryptor:
    def decrypt_file(self, key: bytes, encrypted: Path, plaintext: Path) -> None:
        try:
            secret = pysequoia.Tsk.from_bytes(key)
        except Exception as error:
            raise DecryptionFailed(f"clé privée illisible — {_reason(error)}") from error
        try:
            pysequoia.decrypt_file(str(encrypted), str(plaintext), decryptor=secret.decryptor())
        except Exception as error:
            plaintext.unlink(missing_ok=True)
            raise DecryptionFailed(_reason(error)) from error
