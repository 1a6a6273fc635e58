"""A hand-written reference passage: complete, coherent and clean under every FEDORU check.

Tests of the checks, completeness and writers start from it and change one field, so each test states only the
rule it is about."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relais_rpu.model import Passage

EXAMPLE_ENTREE = datetime(2024, 1, 3, 10, 5)

COMPLETE_PASSAGE = Passage(
    entree=EXAMPLE_ENTREE,
    cp="67600",
    commune="Sélestat",
    naissance=date(1950, 3, 12),
    sexe="F",
    mode_entree="8",
    provenance="5",
    transport="PERSO",
    transport_pec="AUCUN",
    motif="R10.4",
    gravite="2",
    dp="K566",
    da=("E86",),
    actes=("DEQP003",),
    sortie=EXAMPLE_ENTREE + timedelta(hours=4),
    mode_sortie="6",
    destination="1",
    orient="CHIR",
)
