"""Password hashing for intake accounts: scrypt from the standard library.

Why scrypt (hashlib.scrypt) rather than argon2: it is memory-hard like argon2id, recommended by OWASP for password
storage, and ships with CPython's OpenSSL, so the concentrator takes no native dependency for one rarely used
feature (keys are the normal way in; a password is an optional fallback). The parameters travel inside the stored
string (`scrypt$n$r$p$salt$hash`), so they can be raised later without invalidating existing hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**15, 8, 1  # 32 MiB of memory per hash, about 0.1 s: cheap for a login, costly for a guesser
_MAXMEM = 64 * 1024 * 1024
_KEY_BYTES = 32
PREFIX = "scrypt"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("mot de passe vide")
    salt = secrets.token_bytes(16)
    return f"{PREFIX}${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; a malformed stored value never matches."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != PREFIX:
            return False
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(digest))
    except ValueError:
        return False


# Verified against when the account does not exist, so that a login takes as long either way.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
