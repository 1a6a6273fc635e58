"""Intake accounts: one per establishment, named by its FINESS géographique, plus read-only ARS accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import asyncssh

from relais_finess import check
from relais_rpu_concentrator.intake.passwords import hash_password

# An ARS account name must never be mistaken for a FINESS: it starts with a letter.
_ARS_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


class InvalidAccount(ValueError):
    """An account that cannot be created as asked; the message says why, in French."""


class Role(StrEnum):
    ETABLISSEMENT = "etablissement"
    ARS = "ars"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    finess: str | None
    public_keys: tuple[str, ...] = ()
    password_hash: str | None = None
    active: bool = True
    created_at: datetime | None = None
    disabled_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.role is Role.ETABLISSEMENT and self.finess != self.name:
            raise InvalidAccount(
                f"le compte d'un établissement porte son FINESS ({self.name!r} ≠ {self.finess!r})"
            )
        if self.role is Role.ARS and self.finess is not None:
            raise InvalidAccount("un compte ARS n'est rattaché à aucun FINESS")


def parse_public_keys(text: str) -> tuple[str, ...]:
    """OpenSSH public keys (one per line, authorized_keys style), normalised to `type base64 comment`."""
    keys: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = asyncssh.import_public_key(line)
        except (asyncssh.KeyImportError, ValueError) as error:
            raise InvalidAccount(f"clé publique illisible : {error}") from None
        keys.append(key.export_public_key("openssh").decode("ascii").strip())
    if not keys:
        raise InvalidAccount("aucune clé publique fournie")
    return tuple(dict.fromkeys(keys))


def read_public_keys(paths: list[Path]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for path in paths for key in parse_public_keys(path.read_text())))


def establishment_account(finess: str, public_keys: tuple[str, ...], password: str | None = None) -> Account:
    finess = finess.strip().upper()
    result = check(finess)
    if not result.valid:
        raise InvalidAccount(f"FINESS {finess!r} invalide : {result.reason}")
    return Account(
        name=finess,
        role=Role.ETABLISSEMENT,
        finess=finess,
        public_keys=public_keys,
        password_hash=hash_password(password) if password else None,
    )


def ars_account(name: str, public_keys: tuple[str, ...], password: str | None = None) -> Account:
    if not _ARS_NAME.match(name):
        raise InvalidAccount(
            f"nom de compte ARS {name!r} invalide : minuscules, chiffres, '.', '_' ou '-', commençant par une lettre"
        )
    return Account(
        name=name,
        role=Role.ARS,
        finess=None,
        public_keys=public_keys,
        password_hash=hash_password(password) if password else None,
    )
