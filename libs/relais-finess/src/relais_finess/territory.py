"""The département or overseas territory a FINESS number was registered in."""

from __future__ import annotations

from dataclasses import dataclass

from relais_finess._departements import DEPARTEMENTS, OUTRE_MER_97, OUTRE_MER_98
from relais_finess.number import InvalidFiness, check


@dataclass(frozen=True, slots=True)
class Territory:
    """A département (INSEE code, e.g. "2A", "69") or an overseas territory ("971" … "976", "986")."""

    code: str
    label: str


def territory_of(number: str) -> Territory:
    """Decode the territory from the first characters of a valid FINESS number.

    The number must pass check() first: a number with a wrong key may have a wrong prefix too
    (a lost leading zero shifts every character), so decoding it would name the wrong territory.
    Overseas: "97" then the 4th character (1 Guadeloupe … 5 Saint-Pierre-et-Miquelon); Mayotte "9805…",
    Wallis-et-Futuna "9806…".
    """
    result = check(number)
    if not result.valid:
        raise InvalidFiness(f"{number!r}: {result.reason}")
    prefix = number[:2]
    if prefix == "97":
        overseas = OUTRE_MER_97.get(number[3])
        if overseas is None:
            raise InvalidFiness(f"{number!r}: territoire d'outre-mer 97…{number[3]} inconnu")
        return Territory(*overseas)
    if prefix == "98":
        overseas = OUTRE_MER_98.get(number[:4])
        if overseas is None:
            raise InvalidFiness(
                f"{number!r}: territoire {number[:4]} inconnu (9805 Mayotte, 9806 Wallis-et-Futuna)"
            )
        return Territory(*overseas)
    if prefix == "20":
        raise InvalidFiness(f"{number!r}: département 20 inconnu (la Corse est codée 2A ou 2B)")
    label = DEPARTEMENTS.get(prefix)
    if label is None:
        raise InvalidFiness(f"{number!r}: département {prefix} inconnu")
    return Territory(prefix, label)
