import io
from datetime import date, datetime
from pathlib import Path

import pytest

from relais_rpu import Passage, RejectedRecord, RpuFormatError, RpuRejected, open_rpu

HEADER = (
    "<ETABLISSEMENT><FINESS>670780055</FINESS><ORDRE>0</ORDRE><EXTRACT>08/01/2024 03:12:45</EXTRACT>"
    "<DATEDEBUT>01/01/2024</DATEDEBUT><DATEFIN>07/01/2024</DATEFIN></ETABLISSEMENT>"
)
PATIENT = (
    "<PATIENT><CP>67600</CP><COMMUNE>Sélestat</COMMUNE><NAISSANCE>12/03/1950</NAISSANCE><SEXE>F</SEXE>"
    "<ENTREE>03/01/2024 10:05</ENTREE><MODE_ENTREE>8</MODE_ENTREE><PROVENANCE>5</PROVENANCE>"
    "<TRANSPORT>PERSO</TRANSPORT><TRANSPORT_PEC>AUCUN</TRANSPORT_PEC><MOTIF>R10.4</MOTIF><GRAVITE>2</GRAVITE>"
    "<DP>K56.6</DP><LISTE_DA><DA>E86</DA><DA>r53+0</DA></LISTE_DA><LISTE_ACTES><ACTE>DEQP003</ACTE></LISTE_ACTES>"
    "<SORTIE>03/01/2024 14:30</SORTIE><MODE_SORTIE>6</MODE_SORTIE><DESTINATION>1</DESTINATION>"
    "<ORIENT>CHIR</ORIENT></PATIENT>"
)


def oscour(*patients: str, declaration: str = '<?xml version="1.0" encoding="ISO-8859-1"?>') -> str:
    return f"{declaration}<OSCOUR>{HEADER}<PASSAGES>{''.join(patients)}</PASSAGES></OSCOUR>"


def records(data: bytes) -> list[Passage | RejectedRecord]:
    with open_rpu(io.BytesIO(data)) as rpu:
        return list(rpu)


def only_passage(data: bytes) -> Passage:
    [record] = records(data)
    assert isinstance(record, Passage)
    return record


def test_a_standard_file_gives_its_header_and_typed_passages() -> None:
    with open_rpu(io.BytesIO(oscour(PATIENT).encode("iso-8859-1"))) as rpu:
        assert rpu.header.finess == "670780055"
        assert rpu.header.extract == datetime(2024, 1, 8, 3, 12, 45)
        assert (rpu.header.date_debut, rpu.header.date_fin) == (date(2024, 1, 1), date(2024, 1, 7))
        [passage] = list(rpu)
    assert isinstance(passage, Passage)
    assert passage.commune == "Sélestat"
    assert passage.naissance == date(1950, 3, 12)
    assert passage.entree == datetime(2024, 1, 3, 10, 5)
    assert passage.sortie == datetime(2024, 1, 3, 14, 30)
    assert passage.dp == "K566"
    assert passage.da == ("E86", "R530")
    assert passage.actes == ("DEQP003",)
    assert (passage.mode_sortie, passage.destination, passage.orient) == ("6", "1", "CHIR")
    assert passage.record_number == 1


def test_a_path_is_accepted_and_records_can_be_iterated_twice(tmp_path: Path) -> None:
    path = tmp_path / "RPU_670780055_240108.xml"
    path.write_bytes(oscour(PATIENT, PATIENT).encode("iso-8859-1"))
    with open_rpu(path) as rpu:
        assert rpu.name == str(path)
        assert [r.record_number for r in rpu] == [1, 2]
        assert len(list(rpu.records())) == 2


def test_iso_8859_1_declared_file_with_windows_1252_characters_is_read_as_windows_1252() -> None:
    patient = PATIENT.replace("Sélestat", "L’Hôpital œuvre")
    assert only_passage(oscour(patient).encode("cp1252")).commune == "L’Hôpital œuvre"


def test_iso_8859_15_declared_file_is_decoded() -> None:
    data = oscour(
        PATIENT.replace("Sélestat", "Sélestat €"), declaration='<?xml version="1.0" encoding="ISO-8859-15"?>'
    )
    assert only_passage(data.encode("iso-8859-15")).commune == "Sélestat €"


def test_missing_declaration_is_read_as_utf8() -> None:
    data = oscour(PATIENT.replace("Sélestat", "Sélestat ’"), declaration="")
    assert only_passage(data.encode("utf-8")).commune == "Sélestat ’"


def test_missing_declaration_with_invalid_utf8_falls_back_to_windows_1252() -> None:
    # The only non-ASCII byte sits far into the file: the decision must not wait for the parser to reach it.
    data = oscour(
        *[PATIENT.replace("Sélestat", "Selestat")] * 500, PATIENT, declaration='<?xml version="1.0"?>'
    )
    parsed = records(data.encode("cp1252"))
    assert len(parsed) == 501
    assert isinstance(parsed[-1], Passage) and parsed[-1].commune == "Sélestat"


def test_utf8_bom_is_accepted() -> None:
    assert only_passage(b"\xef\xbb\xbf" + oscour(PATIENT, declaration="").encode()).cp == "67600"


def test_crlf_line_ends_and_padding_whitespace_are_tolerated() -> None:
    data = oscour(PATIENT.replace("><", ">\r\n  <").replace("<SEXE>F", "<SEXE>  F \r\n"))
    passage = only_passage(data.encode("iso-8859-1"))
    assert passage.sexe == "F"
    assert passage.entree == datetime(2024, 1, 3, 10, 5)


def test_element_order_does_not_matter() -> None:
    shuffled = (
        "<PATIENT><ORIENT>CHIR</ORIENT><ENTREE>03/01/2024 10:05</ENTREE><DP>K566</DP><SEXE>F</SEXE>"
        "<LISTE_DA><DA>E86</DA><DA>R530</DA></LISTE_DA><SORTIE>03/01/2024 14:30</SORTIE><CP>67600</CP>"
        "<MODE_SORTIE>6</MODE_SORTIE><NAISSANCE>12/03/1950</NAISSANCE><COMMUNE>Sélestat</COMMUNE>"
        "<DESTINATION>1</DESTINATION><GRAVITE>2</GRAVITE><MOTIF>R10.4</MOTIF><TRANSPORT_PEC>AUCUN</TRANSPORT_PEC>"
        "<TRANSPORT>PERSO</TRANSPORT><PROVENANCE>5</PROVENANCE><MODE_ENTREE>8</MODE_ENTREE>"
        "<LISTE_ACTES><ACTE>DEQP003</ACTE></LISTE_ACTES></PATIENT>"
    )
    assert only_passage(oscour(shuffled).encode("latin-1")) == only_passage(oscour(PATIENT).encode("latin-1"))


def test_passages_repeated_per_patient_are_all_read() -> None:
    body = "".join(f"<PASSAGES>{PATIENT}</PASSAGES>" for _ in range(3))
    data = f"<OSCOUR>{HEADER}{body}</OSCOUR>".encode()
    assert [r.record_number for r in records(data)] == [1, 2, 3]


def test_header_after_the_passages_is_found() -> None:
    data = f"<OSCOUR><PASSAGES>{PATIENT}{PATIENT}</PASSAGES>{HEADER}</OSCOUR>".encode()
    with open_rpu(io.BytesIO(data)) as rpu:
        assert rpu.header.finess == "670780055"
        assert len(list(rpu)) == 2


def test_empty_elements_read_as_absent() -> None:
    patient = "<PATIENT><CP/><COMMUNE></COMMUNE><NAISSANCE/><ENTREE>03/01/2024 10:05</ENTREE><DP/><LISTE_DA/></PATIENT>"
    passage = only_passage(oscour(patient).encode())
    assert (passage.cp, passage.commune, passage.naissance, passage.dp, passage.da) == (
        None,
        None,
        None,
        None,
        (),
    )


def test_extra_elements_are_kept_in_file_order() -> None:
    patient = PATIENT.replace(
        "</PATIENT>", "<HMED>03/01/2024 10:20</HMED><CIRCONSTANCE/><ORIENT_UHCD>MED</ORIENT_UHCD></PATIENT>"
    )
    passage = only_passage(oscour(patient).encode("latin-1"))
    assert passage.extras == (("HMED", "03/01/2024 10:20"), ("CIRCONSTANCE", ""), ("ORIENT_UHCD", "MED"))


def test_date_times_with_seconds_are_read() -> None:
    patient = PATIENT.replace("03/01/2024 10:05", "03/01/2024 10:05:33")
    assert only_passage(oscour(patient).encode("latin-1")).entree == datetime(2024, 1, 3, 10, 5, 33)


@pytest.mark.parametrize(("spelling", "canonical"), [("K566", "K566"), ("K56.6", "K566"), ("k56.6 ", "K566"),
                                                     ("R53+0", "R530"), ("I21000", "I210"), ("K5660", "K566")])  # fmt: skip
def test_dp_spellings_are_normalised(spelling: str, canonical: str) -> None:
    patient = PATIENT.replace("<DP>K56.6</DP>", f"<DP>{spelling}</DP>")
    assert only_passage(oscour(patient).encode("latin-1")).dp == canonical


def test_namespaced_elements_are_read() -> None:
    data = oscour(PATIENT).replace("<OSCOUR>", '<OSCOUR xmlns="urn:oscour">').encode("latin-1")
    assert only_passage(data).dp == "K566"


def test_a_non_seekable_stream_is_accepted() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    with open_rpu(io.BufferedReader(Pipe(oscour(PATIENT).encode("latin-1")))) as rpu:
        assert len(list(rpu)) == 1


def test_missing_entree_yields_a_rejected_record_and_parsing_goes_on() -> None:
    without_entree = PATIENT.replace("<ENTREE>03/01/2024 10:05</ENTREE>", "")
    parsed = records(oscour(PATIENT, without_entree, PATIENT).encode("latin-1"))
    assert [type(r).__name__ for r in parsed] == ["Passage", "RejectedRecord", "Passage"]
    rejected = parsed[1]
    assert isinstance(rejected, RejectedRecord)
    assert rejected.record_number == 2
    assert rejected.reason == "ENTREE absente"
    assert ("CP", "67600") in rejected.items and ("DA", "E86") in rejected.items


@pytest.mark.parametrize("value", ["", "32/01/2024 10:05", "2024-01-03T10:05", "03/01/2024 10:05+01"])
def test_empty_or_unreadable_entree_is_rejected_with_its_value(value: str) -> None:
    patient = PATIENT.replace("03/01/2024 10:05</ENTREE>", f"{value}</ENTREE>")
    [rejected] = records(oscour(patient).encode("latin-1"))
    assert isinstance(rejected, RejectedRecord)
    assert rejected.reason == (f"ENTREE illisible : « {value} »" if value else "ENTREE absente")


def test_unreadable_naissance_and_sortie_are_kept_raw() -> None:
    patient = PATIENT.replace("12/03/1950", "00/00/1950").replace("03/01/2024 14:30", "demain")
    passage = only_passage(oscour(patient).encode("latin-1"))
    assert (passage.naissance, passage.sortie) == (None, None)
    assert passage.unparsed == (("NAISSANCE", "00/00/1950"), ("SORTIE", "demain"))


@pytest.mark.parametrize(
    ("finess_element", "reason"),
    [
        ("", "FINESS absent de l'en-tête ETABLISSEMENT"),
        ("<FINESS/>", "FINESS absent de l'en-tête ETABLISSEMENT"),
        ("<FINESS>670780056</FINESS>", "FINESS 670780056 invalide : clé de contrôle 6 invalide (attendue 5)"),
    ],
)
def test_header_without_valid_finess_rejects_the_file(finess_element: str, reason: str) -> None:
    data = oscour(PATIENT).replace("<FINESS>670780055</FINESS>", finess_element).encode("latin-1")
    with pytest.raises(RpuRejected) as raised:
        open_rpu(io.BytesIO(data))
    assert raised.value.reason == reason
    assert "fichier RPU rejeté" in str(raised.value)


def test_file_without_etablissement_is_rejected() -> None:
    with pytest.raises(RpuRejected, match="ETABLISSEMENT manquant"):
        open_rpu(io.BytesIO(f"<OSCOUR><PASSAGES>{PATIENT}</PASSAGES></OSCOUR>".encode()))


def test_external_entity_file_is_rejected_before_parsing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("confidentiel")
    xxe = f'<?xml version="1.0"?>\n<!DOCTYPE OSCOUR [<!ENTITY xxe SYSTEM "file://{secret}">]>\n' + oscour(
        PATIENT.replace("Sélestat", "&xxe;"), declaration=""
    )
    with pytest.raises(RpuFormatError) as raised:
        open_rpu(io.BytesIO(xxe.encode()))
    assert raised.value.line == 2
    assert "DOCTYPE" in raised.value.reason


def test_billion_laughs_file_is_rejected() -> None:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<!DOCTYPE OSCOUR [<!ENTITY lol0 "lol">{entities}]>' + oscour(
        PATIENT.replace("Sélestat", "&lol9;"), declaration=""
    )
    with pytest.raises(RpuFormatError, match="DOCTYPE"):
        open_rpu(io.BytesIO(bomb.encode()))


def test_doctype_hidden_after_a_comment_is_rejected() -> None:
    data = '<?xml version="1.0"?><!-- export --><!DOCTYPE OSCOUR SYSTEM "http://example.org/x.dtd">' + oscour(
        PATIENT, declaration=""
    )
    with pytest.raises(RpuFormatError, match="DOCTYPE"):
        open_rpu(io.BytesIO(data.encode()))


def test_malformed_xml_names_file_and_line_after_yielding_earlier_records(tmp_path: Path) -> None:
    lines = (
        oscour(PATIENT, PATIENT).replace("</PATIENT>", "</PATIENT>\n").replace("<PASSAGES>", "<PASSAGES>\n")
    )
    broken = lines.replace("</PASSAGES>", "<PATIENT><CP>67000</PATIENT>\n</PASSAGES>")
    path = tmp_path / "RPU_670780055_240108.xml"
    path.write_bytes(broken.encode("latin-1"))
    seen: list[int] = []
    with open_rpu(path) as rpu, pytest.raises(RpuFormatError) as raised:
        for record in rpu:
            seen.append(record.record_number)
    assert seen == [1, 2]
    assert raised.value.line == 4
    assert raised.value.source == str(path)
    assert str(path) in str(raised.value) and "ligne 4" in str(raised.value)


def test_not_xml_at_all_is_a_format_error() -> None:
    with pytest.raises(RpuFormatError):
        open_rpu(io.BytesIO(b"FINESS;ENTREE\n670780055;03/01/2024"))
