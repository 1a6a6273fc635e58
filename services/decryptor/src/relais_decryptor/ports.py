from __future__ import annotations

from pathlib import Path
from typing import Protocol


class KeyStore(Protocol):
    """Holds the platform's OpenPGP private key (armored or binary)."""

    async def private_key(self) -> bytes: ...


class DecryptionFailed(Exception):
    """The file cannot be decrypted: wrong key, corrupt or truncated data, or integrity check failed."""


class Decryptor(Protocol):
    def decrypt_file(self, key: bytes, encrypted: Path, plaintext: Path) -> None:
        """Decrypt `encrypted` into `plaintext`; raises DecryptionFailed with a reason."""
        ...
