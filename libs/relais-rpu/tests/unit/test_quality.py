import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from relais_rpu import CHECKS, Passage, age_at_entry, check_passage, is_cim10_shape, normalise_cim10
from relais_rpu.codes import GRAVITE, MODE_ENTREE, MODE_SORTIE, ORIENT, PROVENANCE, SEXE, TRANSPORT
from relais_synthetic.rpu import COMPLETE_PASSAGE, EXAMPLE_ENTREE

ENTREE = EXAMPLE_ENTREE
CLEAN = COMPLETE_PASSAGE


def with_(**changes: Any) -> Passage:
    return dataclasses.replace(CLEAN, **changes)


def test_a_clean_passage_passes_every_check() -> None:
    assert check_passage(CLEAN) == []


def test_absent_items_are_not_quality_failures() -> None:
    bare = Passage(entree=ENTREE)
    assert check_passage(bare) == []


def test_every_check_has_a_french_message() -> None:
    assert all(message and message[0].isascii() is not None for message in CHECKS.values())
    assert "SORTIE_BEFORE_ENTREE" in CHECKS and "AGE_RANGE" in CHECKS


FAILURES: list[tuple[dict[str, Any], str]] = [
    ({"sexe": "H"}, "SEXE_CODE"),
    ({"mode_entree": "0"}, "MODE_ENTREE_CODE"),
    ({"provenance": "9"}, "PROVENANCE_CODE"),
    ({"transport": "TAXI"}, "TRANSPORT_CODE"),
    ({"transport_pec": "SMUR"}, "TRANSPORT_PEC_CODE"),
    ({"gravite": "6"}, "GRAVITE_CODE"),
    ({"mode_sortie": "5", "destination": None, "orient": None}, "MODE_SORTIE_CODE"),
    ({"destination": "5"}, "DESTINATION_CODE"),
    ({"orient": "DOMICILE"}, "ORIENT_CODE"),
    ({"naissance": None, "unparsed": (("NAISSANCE", "00/00/1950"),)}, "NAISSANCE_FORMAT"),
    ({"naissance": date(1880, 1, 1)}, "AGE_RANGE"),
    ({"naissance": date(2024, 1, 4)}, "AGE_RANGE"),
    ({"cp": "6760"}, "CP_FORMAT"),
    ({"cp": "00100"}, "CP_FORMAT"),
    ({"cp": "6760A"}, "CP_FORMAT"),
    ({"dp": "K5"}, "DP_CIM10"),
    ({"dp": "56K6"}, "DP_CIM10"),
    ({"da": ("E86", "douleur")}, "DA_CIM10"),
    ({"actes": ("DEQP",)}, "ACTE_FORMAT"),
    ({"motif": "douleur abdominale"}, "MOTIF_FORMAT"),
    ({"mode_entree": "8", "provenance": "1"}, "MODE_ENTREE_PROVENANCE"),
    ({"mode_entree": "7", "provenance": "5"}, "MODE_ENTREE_PROVENANCE"),
    ({"mode_sortie": "8", "destination": "1", "orient": None}, "MODE_SORTIE_DESTINATION"),
    ({"mode_sortie": "6", "destination": "7"}, "MODE_SORTIE_DESTINATION"),
    ({"mode_sortie": "9", "destination": "1", "orient": None}, "MODE_SORTIE_DESTINATION"),
    ({"mode_sortie": "8", "destination": None, "orient": "CHIR"}, "MODE_SORTIE_ORIENT"),
    ({"mode_sortie": "6", "orient": "PSA"}, "MODE_SORTIE_ORIENT"),
    ({"mode_sortie": "9", "destination": None, "orient": "REA"}, "MODE_SORTIE_ORIENT"),
    ({"sortie": None, "unparsed": (("SORTIE", "demain"),)}, "SORTIE_FORMAT"),
    ({"sortie": ENTREE - timedelta(minutes=1)}, "SORTIE_BEFORE_ENTREE"),
    ({"sortie": ENTREE}, "STAY_NOT_POSITIVE"),
    ({"sortie": ENTREE + timedelta(hours=72, minutes=1)}, "STAY_OVER_72H"),
]


@pytest.mark.parametrize(
    ("changes", "code"), FAILURES, ids=[f"{code}-{i}" for i, (_, code) in enumerate(FAILURES)]
)
def test_each_check_fails_alone_on_its_defect(changes: dict[str, Any], code: str) -> None:
    assert check_passage(with_(**changes)) == [code]
    assert code in CHECKS


def test_every_check_is_exercised() -> None:
    assert {code for _, code in FAILURES} == set(CHECKS)


PASSES: list[dict[str, Any]] = [
    {"cp": "67999"},
    {"cp": "99134"},
    {"cp": "99999"},
    {"cp": "2A999"},
    {"cp": "97400"},
    {"naissance": date(1904, 1, 3)},  # 120 years old that very day
    {"naissance": ENTREE.date()},
    {"sortie": ENTREE + timedelta(hours=72)},
    {"sortie": ENTREE + timedelta(minutes=1)},
    {"mode_entree": "7", "provenance": "4"},
    {"mode_entree": "8", "provenance": "7"},
    {"mode_sortie": "8", "destination": "7", "orient": "SCAM"},
    {"mode_sortie": "8", "destination": None, "orient": None},
    {"mode_sortie": "9", "destination": None, "orient": None},
    {"mode_sortie": "7", "destination": "4", "orient": "HDT"},
    {"motif": "R51"},
    {"dp": "R530"},
    {"dp": "I210"},
    {"gravite": "P"},
    {"gravite": "D", "mode_sortie": "9", "destination": None, "orient": None},
]


@pytest.mark.parametrize("changes", PASSES, ids=[str(c) for c in PASSES])
def test_valid_variants_pass(changes: dict[str, Any]) -> None:
    assert check_passage(with_(**changes)) == []


def test_code_lists_match_the_specification() -> None:
    assert set(SEXE) == {"M", "F", "I"}
    assert set(MODE_ENTREE) == {"6", "7", "8"}
    assert set(PROVENANCE) == set("12345678")
    assert set(TRANSPORT) == {"PERSO", "AMBU", "VSAB", "SMUR", "HELI", "FO"}
    assert set(GRAVITE) == {"1", "P", "2", "3", "4", "5", "D"}
    assert set(MODE_SORTIE) == {"6", "7", "8", "9"}
    assert len(ORIENT) == 13


def test_age_at_entry_counts_completed_years() -> None:
    assert age_at_entry(with_(naissance=date(1950, 1, 3))) == 74
    assert age_at_entry(with_(naissance=date(1950, 1, 4))) == 73
    assert age_at_entry(with_(naissance=None)) is None


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("K566", "K566"),
        ("K56.6", "K566"),
        ("k56.6", "K566"),
        (" K56 6 ", "K566"),
        ("R53+0", "R530"),
        ("I21000", "I210"),
        ("I2100", "I210"),
        ("I21.0", "I210"),
        ("K5660", "K566"),
        ("K56600", "K566"),
        ("K35", "K35"),
        ("K3500", "K350"),
        ("S0650", "S065"),
        ("F1021", "F1021"),
        ("", ""),
    ],
)
def test_cim10_spellings_have_one_canonical_form(spelling: str, canonical: str) -> None:
    assert normalise_cim10(spelling) == canonical
    assert normalise_cim10(canonical) == canonical


@pytest.mark.parametrize(("code", "valid"), [("K566", True), ("R51", True), ("F1021", True), ("K5", False),
                                             ("566K", False), ("DOULEUR", False), ("K56.6", False)])  # fmt: skip
def test_cim10_shape(code: str, valid: bool) -> None:
    assert is_cim10_shape(code) is valid
