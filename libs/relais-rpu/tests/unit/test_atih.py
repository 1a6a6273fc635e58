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


def test_fast_rendering_equals_the_item_by_item_anonymisation() -> None:
    from relais_rpu.atih import _atih_items, render_atih
    from relais_rpu.write import render_patient

    escaped = Passage(entree=ENTREE, motif="douleur <abdo> & fièvre", cp="67600", naissance=date(2000, 1, 1))
    for passage in (PASSAGE, escaped, Passage(entree=ENTREE, da=("I10", "E119"), actes=("DEQP003",))):
        record = anonymise(passage, geo_code)
        slow = render_patient(_atih_items(record, False))
        assert render_atih(passage, record.code_geo, record.age) == slow


def test_pmsi_geo_codes_table_and_fallbacks() -> None:
    from relais_rpu.geo import PmsiGeoCodes

    codes = PmsiGeoCodes()
    assert len(codes) > 9000
    assert codes("67600") == "67600" and len(codes("67160")) == 5
    assert codes("67999") == "67999"  # town unknown, département known
    assert codes("67001") == "67999"  # a French shape not in the table: the département's fallback
    assert codes("20167") == "2A999" and codes("20290") != "2A999"
    assert codes("97419") == "97499"
    assert codes("99134") == "99134"  # abroad: 99 + INSEE country code, kept
    assert codes("99999") == codes(None) == codes("") == codes("6700") == codes("ABCDE") == "99999"
    assert all(len(codes(cp)) == 5 for cp in ("75013", "93200", "68100", "2A004"))
    custom = PmsiGeoCodes({"67600": "67601"})
    assert custom("67600") == "67601" and custom("67000") == "67999"


def test_batch_writer_writes_the_same_file_as_write_atih() -> None:
    from relais_rpu import AtihWriter

    passages = [PASSAGE, Passage(entree=ENTREE, naissance=None), PASSAGE]
    whole = io.BytesIO()
    write_atih(whole, HEADER, passages, geo_code)
    batched = io.BytesIO()
    writer = AtihWriter(batched, HEADER, geo_code)
    writer.write(passages[:2])
    writer.write(passages[2:])
    assert writer.close() == 3
    assert batched.getvalue() == whole.getvalue()


def test_text_fields_render_the_same_patient_as_the_passage() -> None:
    from relais_rpu.atih import atih_text_fields, render_atih, render_atih_text
    from relais_rpu.quality import age_at_entry

    escaped = Passage(entree=ENTREE, motif="douleur <abdo> & fièvre", cp="67600", naissance=date(2000, 1, 1))
    late = Passage(entree=ENTREE.replace(second=30), sortie=ENTREE + timedelta(hours=2), da=("I10", "E119"))
    for passage in (PASSAGE, escaped, late, Passage(entree=ENTREE, actes=("DEQP003",))):
        fields = atih_text_fields(passage)
        assert render_atih_text(fields, geo_code(passage.cp)) == render_atih(
            passage, geo_code(passage.cp), age_at_entry(passage)
        )
