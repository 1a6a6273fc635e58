import io
from datetime import date, datetime, timedelta

from lxml import etree

from relais_rpu import Passage, RpuHeader, anonymise, write_atih

HEADER = RpuHeader("670780055", "0", datetime(2024, 2, 1, 3), date(2024, 1, 1), date(2024, 1, 31))
ENTREE = datetime(2024, 1, 3, 10, 5)
PASSAGE = Passage(
    entree=ENTREE,
    cp="67600",
    commune="Sélestat",
    naissance=date(1950, 3, 12),
    sexe="F",
    mode_entree="8",
    provenance="5",
    gravite="2",
    dp="K566",
    sortie=ENTREE + timedelta(hours=4),
    mode_sortie="8",
    extras=(("HMED", "03/01/2024 10:20"),),
)
GEO = {"67600": "67050", None: "99999"}


def geo_code(cp: str | None) -> str:
    return GEO.get(cp, "99999")


def test_anonymise_drops_commune_and_replaces_cp_and_birth_date() -> None:
    record = anonymise(PASSAGE, geo_code)
    assert record.code_geo == "67050"
    assert record.age == 73
    assert (record.passage.cp, record.passage.commune, record.passage.naissance) == (None, None, None)
    assert record.passage.extras == ()
    assert record.passage.dp == "K566" and record.passage.entree == ENTREE


def test_atih_file_carries_no_identifying_item() -> None:
    out = io.BytesIO()
    unknown = Passage(entree=ENTREE, naissance=None)
    assert write_atih(out, HEADER, [PASSAGE, unknown], geo_code) == 2
    root = etree.fromstring(out.getvalue())
    patients = root.findall(".//PATIENT")
    assert len(patients) == 2
    for patient in patients:
        tags = {child.tag for child in patient}
        assert not tags & {"CP", "COMMUNE", "NAISSANCE", "HMED"}
        assert {"CODE_GEO", "AGE", "ENTREE", "DP"} <= tags
    assert patients[0].findtext("CODE_GEO") == "67050" and patients[0].findtext("AGE") == "73"
    assert patients[1].findtext("CODE_GEO") == "99999" and patients[1].find("AGE").text is None
    assert b"S\xe9lestat" not in out.getvalue() and b"1950" not in out.getvalue()
