"""The 9-character FINESS number and its Luhn check key.

The key is a Luhn (mod 10) digit over the first 8 characters, Corsica's letter replaced by a digit (A→1, B→2);
verified on published numbers (see shared/specs/finess.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
_CORSICA = {"A": "1", "B": "2"}


class InvalidFiness(ValueError):
    """A FINESS number that breaks a rule; the message names the number and the rule."""


@dataclass(frozen=True, slots=True)
class FinessCheck:
    number: str
    valid: bool
    reason: str | None = None


def _digits(first8: str) -> str:
    return first8[0] + _CORSICA.get(first8[1], first8[1]) + first8[2:]


def compute_key(first8: str) -> str:
    """The check character for the first 8 characters of a FINESS number."""
    if not re.fullmatch(r"[0-9][0-9AB][0-9]{6}", first8):
        raise InvalidFiness(f"{first8!r}: expected 8 characters [0-9][0-9AB][0-9]{{6}}")
    total = 0
    # Luhn: from the rightmost payload digit (which sits left of the key), double every other digit.
    for position, char in enumerate(reversed(_digits(first8))):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def check(number: str) -> FinessCheck:
    """Validate a FINESS number; an invalid one comes with the rule it breaks."""
    if not number:
        return FinessCheck(number, False, "numéro FINESS absent")
    if len(number) != 9:
        return FinessCheck(number, False, f"{len(number)} caractères au lieu de 9")
    if not _SHAPE.match(number):
        return FinessCheck(number, False, "format attendu [0-9][0-9AB][0-9]{7}")
    if number[1] in _CORSICA and number[0] != "2":
        return FinessCheck(number, False, "les lettres A/B ne sont admises que pour la Corse (2A, 2B)")
    expected = compute_key(number[:8])
    if number[8] != expected:
        return FinessCheck(number, False, f"clé de contrôle {number[8]} invalide (attendue {expected})")
    return FinessCheck(number, True)


def is_valid(number: str) -> bool:
    return check(number).valid


def to_snds(number: str) -> str:
    """The SNDS 8-character form (the number without its key)."""
    result = check(number)
    if not result.valid:
        raise InvalidFiness(f"{number!r}: {result.reason}")
    return number[:8]


def from_snds(snds: str) -> str:
    """Back from the SNDS 8-character form, re-padding leading zeros lost by numeric handling."""
    stripped = snds.strip()
    if stripped == "" or set(stripped) == {"0"}:
        raise InvalidFiness(f"{snds!r}: pas de FINESS (valeur vide ou zéros)")
    padded = stripped.zfill(8)
    return padded + compute_key(padded)
