"""Synthetic FINESS numbers: valid check keys, invented bodies."""

from __future__ import annotations

import random

from relais_finess import compute_key


def random_finess(rng: random.Random, departement: str | None = None) -> str:
    """A synthetic but valid FINESS number, in a given département ('75', '2A', '97'…) or a random one."""
    dept = departement or rng.choice(["01", "13", "33", "59", "67", "69", "75", "2A", "2B", "97"])
    body = dept + "".join(str(rng.randrange(10)) for _ in range(8 - len(dept)))
    return body + compute_key(body)
