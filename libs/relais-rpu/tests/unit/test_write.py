import dataclasses
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from relais_rpu import OscourLayout, Passage, RpuHeader, normalise_cim10, open_rpu, write_oscour
from relais_synthetic.rpu import day_records, synthetic_region

HEADER = RpuHeader("670780055", "0", datetime(2024, 1, 8, 3, 12, 45), date(2024, 1, 1), date(2024, 1, 7))
ENTREE = datetime(2024, 1, 3, 10, 5)
PASSAGES = [
    Passage(
        entree=ENTREE,
        cp="67600",
        commune="L’Hôpital & <Saint-Louis>",
        naissance=date(1950, 3, 12),
        sexe="F",
        mode_entree="8",
        provenance="5",
        transport="PERSO",
        transport_pec="AUCUN",
        motif="R10.4",
        gravite="2",
        dp="K566",
        da=("E86", "R530"),
        actes=("DEQP003", "ZBQK002"),
        sortie=ENTREE + timedelta(hours=4, seconds=17),
        mode_sortie="6",
        destination="1",
        orient="UHCD",
        extras=(("HMED", "03/01/2024 10:20"), ("ORIENT_UHCD", "MED")),
        record_number=1,
    ),
    Passage(entree=ENTREE, record_number=2),
    Passage(
        entree=ENTREE, naissance=None, unparsed=(("NAISSANCE", "00/00/1950"),), dp="I210", record_number=3
    ),
    Passage(entree=ENTREE, cp="67000", commune="Strasbourg", sexe="M", gravite="1", record_number=4),
]

LAYOUTS = [
    OscourLayout(),
    OscourLayout(encoding="utf-8"),
    OscourLayout(encoding="iso-8859-15", crlf=True, seconds=True),
    OscourLayout(encoding="utf-8", declare_encoding=False, passages_per_patient=True),
    OscourLayout(encoding="cp1252", declare_encoding=False, crlf=True),
]


def parse(data: bytes) -> tuple[RpuHeader, list[Passage]]:
    with open_rpu(io.BytesIO(data)) as rpu:
        records = list(rpu)
    passages = [r for r in records if isinstance(r, Passage)]
    assert len(passages) == len(records)
    return rpu.header, passages


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: repr(layout))
def test_parse_of_write_gives_back_the_same_header_and_passages(layout: OscourLayout) -> None:
    out = io.BytesIO()
    assert write_oscour(out, HEADER, iter(PASSAGES), layout) == len(PASSAGES)
    assert parse(out.getvalue()) == (HEADER, PASSAGES)


def test_synthetic_passages_survive_a_round_trip() -> None:
    region = synthetic_region(7, 3, invalid_rate=0.0)
    generated = [
        r.passage for est in region.establishments for r in day_records(region, est, date(2024, 3, 4))
    ]
    # The generator writes DP spelling variants; the parser hands back their canonical form.
    expected = [
        dataclasses.replace(p, dp=normalise_cim10(p.dp or "") or None, record_number=number)
        for number, p in enumerate(generated, start=1)
    ]
    out = io.BytesIO()
    write_oscour(out, HEADER, generated)
    assert parse(out.getvalue())[1] == expected


def test_default_output_is_the_legal_iso_8859_1_format_with_character_references() -> None:
    out = io.BytesIO()
    write_oscour(out, HEADER, PASSAGES[:1])
    data = out.getvalue()
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<OSCOUR>\n<ETABLISSEMENT>')
    assert "L&#8217;H\xf4pital &amp; &lt;Saint-Louis&gt;".encode("latin-1") in data
    assert b"<EXTRACT>08/01/2024 03:12:45</EXTRACT>" in data
    assert b"<ENTREE>03/01/2024 10:05</ENTREE>" in data
    assert b"<SORTIE>03/01/2024 14:05:17</SORTIE>" in data
    assert b"<LISTE_DA><DA>E86</DA><DA>R530</DA></LISTE_DA>" in data
    assert data.endswith(b"</PASSAGES>\n</OSCOUR>\n")


def test_empty_items_are_written_as_empty_elements() -> None:
    out = io.BytesIO()
    write_oscour(out, HEADER, [PASSAGES[1]])
    assert b"<CP/>" in out.getvalue() and b"<LISTE_DA/>" in out.getvalue()


def test_writing_to_a_path_streams_a_large_iterator(tmp_path: Path) -> None:
    path = tmp_path / "O670780055_0_20240108031245.xml"
    count = write_oscour(
        path, HEADER, (dataclasses.replace(PASSAGES[3], record_number=i + 1) for i in range(5000))
    )
    assert count == 5000
    with open_rpu(path) as rpu:
        assert sum(1 for _ in rpu) == 5000


def test_an_empty_file_is_still_valid() -> None:
    out = io.BytesIO()
    assert write_oscour(out, HEADER, []) == 0
    assert parse(out.getvalue()) == (HEADER, [])
