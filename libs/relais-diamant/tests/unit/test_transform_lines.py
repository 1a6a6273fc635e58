"""Reading a file by column keeps the line semantics of the csv module: field counts, blank lines, line endings,
quoted cells, physical line numbers, encodings."""

from pathlib import Path
from typing import Any

import pytest

from relais_diamant.definitions import ANN_RPU
from relais_diamant.reader import UnreadableFile
from relais_diamant.rules import QualityReport, Referential
from relais_diamant.transform import transform_file

ET1, ET2, ET3 = "010000115", "010000123", "2A0000022"
REFERENTIAL = Referential(frozenset({ET1, ET2, ET3}), frozenset({"010000016"}), {})
HEADER = b"Finess;Ann\xc3\xa9e;Nombre de passages aux urgences"


def transform(
    tmp_path: Path, body: bytes, name: str = "ANN_RPU_2026_01_05.CSV"
) -> tuple[list[Any], QualityReport]:
    path = tmp_path / name
    path.write_bytes(HEADER + b"\r\n" + body)
    result = transform_file(path, ANN_RPU, REFERENTIAL, 2026)
    return [
        (row["numero_finess_etablissement_territorial"], row["nombre_passages_urgences"])
        for _, row in result.rows()
    ], result.report


def problems(report: QualityReport) -> list[tuple[int, str, str]]:
    return [(p.line, p.rule, p.detail) for p in report.problems]


def test_short_and_long_lines_are_rejected_with_their_count_and_physical_line(tmp_path: Path) -> None:
    body = f"{ET1};2024;1\n{ET2};2024\n{ET3};2024;3;\n{ET1};2023;4;5;6\n;\n{ET2};2023;7\n".encode()
    rows, report = transform(tmp_path, body)
    assert rows == [(ET1, 1.0), (ET2, 7.0)]
    assert report.rows_read == 6 and report.rejected == {"nombre_de_champs": 4}
    assert problems(report) == [
        (3, "nombre_de_champs", "2 champs pour 3 libellés"),
        (4, "nombre_de_champs", "4 champs pour 3 libellés"),  # a trailing empty field is a field
        (5, "nombre_de_champs", "5 champs pour 3 libellés"),
        (6, "nombre_de_champs", "2 champs pour 3 libellés"),
    ]


def test_blank_lines_are_skipped_but_counted_in_line_numbers(tmp_path: Path) -> None:
    body = f"\r\n{ET1};2024;1\r\n   \r\n\t\n\n{ET2};;2\r\n\r\n".encode()
    rows, report = transform(tmp_path, body)
    assert rows == [(ET1, 1.0)]
    assert report.rows_read == 2
    assert problems(report) == [(7, "annee_vide", "")]


def test_a_line_of_one_field_that_is_not_blank_is_a_wrong_count(tmp_path: Path) -> None:
    _, report = transform(tmp_path, f"{ET1};2024;1\nx\n".encode())
    assert problems(report) == [(3, "nombre_de_champs", "1 champs pour 3 libellés")]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_line_endings_do_not_change_the_cells(tmp_path: Path, ending: bytes) -> None:
    body = ending.join([f"{ET1};2024;.5".encode(), f"{ET2};2023;".encode(), f"{ET3};2022;2.112E-2".encode()])
    rows, _ = transform(tmp_path, body + ending)
    assert rows == [(ET1, 0.5), (ET2, None), (ET3, 0.02112)]


def test_the_last_line_may_lack_its_line_end(tmp_path: Path) -> None:
    rows, report = transform(tmp_path, f"{ET1};2024;1\r\n{ET2};2024;2".encode())
    assert rows == [(ET1, 1.0), (ET2, 2.0)] and report.rows_read == 2


@pytest.mark.parametrize(
    "body",
    [
        f'"{ET1}";2024;"12"\n{ET2};"2023";\n"{ET3};2022;1"\n'.encode(),  # quotes: the csv module reads the file
        f"{ET1};2024;12\r{ET2};2023;\n{ET3};2022;1;1\n".encode(),  # a lone \r ends a line for the csv module
        f"{ET1};2024;12\n{ET2};2023;\x00\n{ET3};2022;1;1\n".encode(),  # a NUL byte
    ],
)
def test_files_the_csv_module_reads_give_the_same_rows_and_lines(tmp_path: Path, body: bytes) -> None:
    rows, report = transform(tmp_path, body)
    assert rows[0] == (ET1, 12.0)
    assert report.rows_read == 3
    assert [(p.line, p.rule) for p in report.problems][-1] == (4, "nombre_de_champs")


def test_a_quoted_cell_keeps_its_separator(tmp_path: Path) -> None:
    rows, report = transform(tmp_path, f'{ET1};2024;"1;5"\n{ET2};2024;"3"\n'.encode())
    assert rows == [(ET1, None), (ET2, 3.0)]
    assert problems(report) == [(2, "valeur_invalide", "« Nombre de passages aux urgences » = '1;5'")]


def test_a_file_not_in_utf8_is_refused_with_where(tmp_path: Path) -> None:
    good = f"{ET1};2024;1\n".encode() * 1000  # beyond the header's read: the column read finds it
    with pytest.raises(UnreadableFile, match=r"pas en UTF-8 \(octet b'\\xe9' après la ligne 1001\)"):
        transform(tmp_path, good + "é;2024;3\n".encode("cp1252"))


def test_problems_are_listed_by_line_and_all_counted(tmp_path: Path) -> None:
    body = f"{ET1};2024;x\n".encode() + f"{ET2};;1\n".encode() * 250
    _, report = transform(tmp_path, body)
    assert report.problem_count == 251
    assert len(report.problems) == 200
    assert problems(report)[:2] == [  # the value noted last comes first: its line does
        (2, "valeur_invalide", "« Nombre de passages aux urgences » = 'x'"),
        (3, "annee_vide", ""),
    ]
    assert [p.line for p in report.problems] == sorted(p.line for p in report.problems)


def test_a_header_opening_with_a_byte_order_mark_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "ANN_RPU_2026_01_05.CSV"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + f"\n{ET1};2024;3\n".encode())
    result = transform_file(path, ANN_RPU, REFERENTIAL, 2026)
    assert [row["nombre_passages_urgences"] for _, row in result.rows()] == [3.0]


@pytest.mark.parametrize(
    ("start", "ends", "last_end"),
    [
        (b"", [b"\n"], b"\n"),
        (b"", [b"\r\n"], b"\r\n"),
        (b"", [b"\r\n", b"\n"], b"\n"),  # mixed: the file is walked through
        (b"\xef\xbb\xbf", [b"\r\n"], b"\r\n"),
        (b"", [b"\r\n"], b""),  # the last line without its end
    ],
)
def test_duplicates_are_ranked_on_their_raw_cells_whatever_the_line_ends(
    tmp_path: Path, start: bytes, ends: list[bytes], last_end: bytes
) -> None:
    # Equally filled duplicates: the digest of their raw cells, read again from the file, decides.
    lines = [f"{ET1};2024;{value}".encode() for value in ("7", "7.0", "07", "3", " 7")] + [
        f"{ET2};2024;1".encode()
    ]
    body = b"".join(line + ends[position % len(ends)] for position, line in enumerate(lines[:-1]))
    path = tmp_path / "ANN_RPU_2026_01_05.CSV"
    path.write_bytes(start + HEADER + ends[0] + body + lines[-1] + last_end)
    result = transform_file(path, ANN_RPU, REFERENTIAL, 2026)
    (tmp_path / "reference").mkdir()
    _, reference = transform(tmp_path / "reference", b"".join(line + b"\n" for line in lines))
    assert result.report.duplicates == 4
    assert problems(result.report) == problems(reference)  # the same winner, named in each doublon problem
