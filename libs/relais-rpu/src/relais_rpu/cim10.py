"""CIM-10 (ICD-10, French PMSI edition) code spelling.

Establishments write the same diagnosis as `K566`, `K56.6`, `k56.6 `, `K5660` or `K56600`; ATIH extensions use `+`
as a placeholder (`R53+0`). The canonical form used everywhere in Relais is:

1. upper case, with spaces, `.`, `+`, `-`, `*` and `†` removed (`R53+0` → `R530`, `K56.6` → `K566`);
2. trailing `0`s after the 4th character removed: some software pads codes to 5 or 6 characters with zeros
   (`I21000` → `I210`, `K5660` → `K566`).

The 4th character is always kept as written, so `I210` (a real subcode) stays distinct from `I21`; a padded
3-character category (`K3500`) becomes `K350`. Without the nomenclature a padding zero cannot be told from a real
`.0` subcode beyond the 4th character, so a genuine 5th/6th-character zero collapses to its parent — lossy but the
same spelling always gives the same key, which is what de-duplication and statistics need.
"""

from __future__ import annotations

import re

_REMOVED = str.maketrans("", "", " .+-*†\t")
_SHAPE = re.compile(r"[A-Z][0-9]{2}[0-9A-Z]{0,3}")


def normalise_cim10(code: str) -> str:
    """The canonical spelling (see module docstring); an empty input gives an empty string."""
    canonical = code.translate(_REMOVED).upper()
    if len(canonical) > 4:
        canonical = canonical[:4] + canonical[4:].rstrip("0")
    return canonical


def is_cim10_shape(code: str) -> bool:
    """A canonical code shaped like CIM-10: a letter, two digits, up to three more characters."""
    return _SHAPE.fullmatch(code) is not None
