"""Distributions behind the synthetic RPU generator, as tables.

Orders of magnitude from published ED activity (DREES, FEDORU panoramas): ~95 % of patients come from home, CCMU
1–2 make ~85 %, ~20 % are hospitalised, Monday is the busiest day. They make data that looks real to a human and
to the quality checks, not an epidemiological model.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice with precomputed cumulative weights: one `random()` and a bisection per draw."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cumulative, rng.random() * self.total)]


WEEKDAY_FACTOR = (1.13, 1.01, 0.97, 0.97, 1.0, 0.95, 0.97)  # Monday … Sunday
MONTH_FACTOR = (1.02, 0.95, 0.97, 0.98, 1.02, 1.05, 1.08, 1.03, 0.98, 0.98, 0.96, 1.0)
HOUR_WEIGHT = Weighted(
    list(enumerate((2, 1.6, 1.3, 1.1, 1, 1, 1.3, 2.2, 3.8, 5.2, 5.8, 5.6, 5, 5, 5.3, 5.3, 5.2, 5.2, 5.4, 5.2, 4.6, 4,
                    3.4, 2.6)))
)  # fmt: skip

SEXE = Weighted([("M", 0.52), ("F", 0.479), ("I", 0.001)])
AGE_BAND = Weighted([((0, 15), 0.24), ((15, 45), 0.34), ((45, 75), 0.26), ((75, 101), 0.16)])
MODE_ENTREE = Weighted([("8", 0.955), ("7", 0.035), ("6", 0.01)])
PROVENANCE_HOME = Weighted([("5", 0.55), ("8", 0.25), (None, 0.17), ("7", 0.03)])
PROVENANCE_HOSPITAL = Weighted([("1", 0.8), ("2", 0.08), ("3", 0.04), ("4", 0.08)])
TRANSPORT = Weighted([("PERSO", 0.68), ("AMBU", 0.12), ("VSAB", 0.15), ("SMUR", 0.02), ("HELI", 0.002),
                      ("FO", 0.01), (None, 0.018)])  # fmt: skip
TRANSPORT_PEC = {"SMUR": "MED", "HELI": "MED", "VSAB": "PARAMED", "AMBU": "PARAMED"}
GRAVITE = Weighted([("1", 0.3), ("2", 0.53), ("3", 0.1), ("4", 0.015), ("5", 0.004), ("P", 0.02),
                    ("D", 0.001), (None, 0.03)])  # fmt: skip
HOSPITALISATION_BY_GRAVITE = {"1": 0.04, "2": 0.15, "3": 0.55, "4": 0.85, "5": 0.9, "P": 0.3, "D": 0.0}
ORIENT_HOSPITAL = Weighted([("UHCD", 0.34), ("MED", 0.33), ("CHIR", 0.15), ("SC", 0.03), ("SI", 0.03),
                            ("REA", 0.02), ("OBST", 0.02), ("HDT", 0.02), ("HO", 0.01), (None, 0.05)])  # fmt: skip
ORIENT_HOME = Weighted([(None, 0.93), ("PSA", 0.035), ("REO", 0.02), ("SCAM", 0.01), ("FUGUE", 0.005)])
DESTINATION_HOME = Weighted([(None, 0.985), ("7", 0.012), ("6", 0.003)])

# (SFMU motif, plausible main diagnoses): motifs are CIM-10-like codes of the SFMU thesaurus.
CLINICAL = Weighted(
    [
        (("R10.4", ("R104", "K358", "K566", "K802", "N23", "A09")), 8),
        (("R07.4", ("R074", "I210", "I200", "I48", "J189")), 5),
        (("T14.0", ("S934", "S525", "S610", "S019", "S800", "S626")), 16),
        (("S06.9", ("S060", "S065", "S019")), 4),
        (("R50.9", ("R509", "J069", "J189", "N390", "A084")), 7),
        (("R06.0", ("J441", "J189", "I500", "J45", "J209")), 5),
        (("R55", ("R55", "I48", "I951", "R42")), 3),
        (("R51", ("R51", "G439", "I609")), 3),
        (("F10.0", ("F100", "F102", "T510")), 2),
        (("R45.1", ("F412", "F329", "F23", "R451")), 3),
        (("L02.9", ("L031", "L024", "T792")), 2),
        (("H10.9", ("H109", "H101", "T150")), 1),
        (("R11", ("R11", "A09", "K529", "O210")), 3),
        (("W19", ("S720", "S320", "S065", "T140")), 4),
    ]
)
DA = ("R104", "E86", "I10", "E119", "Z532", "Z608", "F102", "J449", "N179", "R402")
ACTES = ("DEQP003", "ZBQK002", "NFQK001", "QZJA002", "MZMP002", "ZCQK004", "ACQK001", "LAQK027", "YYYY015")
FREE_TEXT_MOTIFS = ("douleur abdominale", "chute", "malaise", "plaie main", "fièvre")

# (CP, commune) by département; the last entries are the format's "unknown" forms.
PLACES: dict[str, tuple[tuple[str, str], ...]] = {
    "67": (("67000", "Strasbourg"), ("67100", "Strasbourg"), ("67200", "Strasbourg"), ("67160", "Wissembourg"),
           ("67600", "Sélestat"), ("67500", "Haguenau"), ("67700", "Saverne"), ("67120", "Molsheim"),
           ("67210", "Obernai"), ("67300", "Schiltigheim")),
    "68": (("68000", "Colmar"), ("68100", "Mulhouse"), ("68200", "Mulhouse"), ("68300", "Saint-Louis"),
           ("68500", "Guebwiller"), ("68800", "Thann")),
    "75": (("75013", "Paris"), ("75018", "Paris"), ("75020", "Paris"), ("75015", "Paris"), ("75011", "Paris")),
    "93": (("93200", "Saint-Denis"), ("93100", "Montreuil"), ("93000", "Bobigny"), ("93600", "Aulnay-sous-Bois")),
}  # fmt: skip
UNKNOWN_PLACES = (("99999", None), ("99134", "Espagne"), ("99109", "Allemagne"))

EXTRA_ELEMENTS = ("HMED", "CIRCONSTANCE")
UHCD_EXTRAS = ("ENTREE_UHCD", "MODE_SORTIE_UHCD", "DESTINATION_UHCD", "ORIENT_UHCD")

# Kinds of invalid record and their share among invalid ones.
DEFECT = Weighted(
    [
        ("missing_entree", 0.3),
        ("unreadable_entree", 0.1),
        ("bad_mode_entree", 0.1),
        ("bad_gravite", 0.1),
        ("bad_orient", 0.1),
        ("too_old", 0.1),
        ("sortie_before_entree", 0.1),
        ("bad_cp", 0.1),
    ]
)
