"""The streaming `;` reader: header matching, generations, encodings and line endings, every problem located."""

from pathlib import Path

import pytest

from relais_diamant.definitions import (
    ANN_RPU,
    MEN_PMSI_MENCUMU,
    MENCUMU_GENERATION_2024,
    MENCUMU_GENERATION_2025,
    MENCUMU_GENERATION_BEFORE_2024,
    QUO_SAN_FINANCE,
    labels,
)
from relais_diamant.reader import DiamantFile, UnreadableFile, normalise_label


def write(path: Path, header: list[str], rows: list[list[str]], newline: str = "\r\n") -> Path:
    path.write_bytes(newline.join(";".join(cells) for cells in [header, *rows]).encode() + newline.encode())
    return path


def test_crlf_and_lf_files_give_the_same_lines(tmp_path: Path) -> None:
    header = labels("ANN_RPU")
    rows = [["010008407", "010008399", "2024", "12"], ["2A0000014", "", "2023", ".5"]]
    crlf = DiamantFile(write(tmp_path / "a.CSV", header, rows, "\r\n"), ANN_RPU)
    lf = DiamantFile(write(tmp_path / "b.CSV", header, rows, "\n"), ANN_RPU)
    assert list(crlf.lines()) == list(lf.lines()) == [(2, rows[0]), (3, rows[1])]


def test_lines_are_read_again_for_each_pass_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "f.CSV"
    path.write_text("Finess;Année;Nombre de passages aux urgences\n010008407;2024;1\n\n010008407;2023;2\n")
    file = DiamantFile(path, ANN_RPU)
    assert [line for line, _ in file.lines()] == [2, 4]
    assert [line for line, _ in file.lines()] == [2, 4]


def test_a_missing_label_refuses_the_whole_file_and_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "QUO_SAN_FINANCE_2026_01_05.CSV", ["Finess EJ", "Finess ET", "Année", "FRNG"], [])
    with pytest.raises(UnreadableFile) as refused:
        DiamantFile(path, QUO_SAN_FINANCE)
    message = str(refused.value)
    assert message.startswith(
        "QUO_SAN_FINANCE_2026_01_05.CSV : fichier refusé, en-tête QUO_SAN_FINANCE incomplet"
    )
    assert "« SAN Résultat net comptable »" in message and "« Nombre d'ETP PM »" in message
    assert "« FRNG »" not in message


def test_the_file_name_given_is_the_one_in_messages(tmp_path: Path) -> None:
    path = write(tmp_path / "0f3a9c", ["Finess"], [])
    with pytest.raises(UnreadableFile, match=r"^ANN_RPU_2026_01_05\.CSV : .*« Année »"):
        DiamantFile(path, ANN_RPU, "ANN_RPU_2026_01_05.CSV")


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.CSV"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFile, match="fichier vide"):
        DiamantFile(path, ANN_RPU)


def test_a_file_not_in_utf8_is_refused_with_where(tmp_path: Path) -> None:
    path = tmp_path / "w.CSV"
    path.write_bytes("Finess;Année;Nombre de passages aux urgences\n010008407;2024;1\n".encode("cp1252"))
    with pytest.raises(UnreadableFile, match="pas en UTF-8"):
        list(DiamantFile(path, ANN_RPU).lines())


def test_a_duplicated_label_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "d.CSV", ["Finess", "Année", "Année", "Nombre de passages aux urgences"], [])
    with pytest.raises(UnreadableFile, match="deux fois le libellé « Année »"):
        DiamantFile(path, ANN_RPU)


def test_labels_match_after_normalising_spaces_apostrophes_and_unicode(tmp_path: Path) -> None:
    assert normalise_label("Nombre de séjours mensuels  HTP/AMBU Chirurgie") == normalise_label(
        "Nombre de séjours mensuels HTP/AMBU Chirurgie"
    )
    assert normalise_label("Taux de réalisation de l’activité") == normalise_label(
        "Taux de réalisation de l'activité"
    )
    assert normalise_label("Anne\u0301e") == "Année"  # a combining accent
    path = write(tmp_path / "n.CSV", ["\ufeffFiness", "Ann\u00e9e", " Nombre de passages  aux urgences "], [])
    assert DiamantFile(path, ANN_RPU).header.index == {"finess": 0, "annee": 1, "nombre_passages_urgences": 2}


def test_extra_columns_are_ignored_and_reported_as_unused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.CSV", ["Finess", "Année", "Nombre de passages aux urgences", "Nouveau"], [])
    assert DiamantFile(path, ANN_RPU).header.unused_labels == ("Nouveau",)


@pytest.mark.parametrize(
    ("generation", "psy_and_dms"),
    [
        (MENCUMU_GENERATION_BEFORE_2024, False),
        (MENCUMU_GENERATION_2024, False),
        (MENCUMU_GENERATION_2025, True),
    ],
)
def test_mencumu_generations_are_recognised(tmp_path: Path, generation: str, psy_and_dms: bool) -> None:
    path = write(tmp_path / "m.CSV", labels("MEN_PMSI_MENCUMU", generation), [])
    header = DiamantFile(path, MEN_PMSI_MENCUMU).header
    assert header.generation.name == generation
    assert ("duree_moyenne_sejour_medecine" in header.index) is psy_and_dms
    assert "nombre_sejours_partiels_chirurgie" in header.index


def test_mencumu_2025_keeps_the_two_spaces_of_the_real_label() -> None:
    assert "Nombre de séjours mensuels  HTP/AMBU Chirurgie" in labels("MEN_PMSI_MENCUMU")


def test_mencumu_before_2024_accepts_both_word_orders_of_the_ssr_labels(tmp_path: Path) -> None:
    header = [
        label.replace("journées cumulées mensuelles", "journées mensuelles cumulées")
        for label in labels("MEN_PMSI_MENCUMU", MENCUMU_GENERATION_BEFORE_2024)
    ]
    path = write(tmp_path / "o.CSV", header, [])
    assert DiamantFile(path, MEN_PMSI_MENCUMU).header.generation.name == MENCUMU_GENERATION_BEFORE_2024


def test_mencumu_header_matching_no_generation_names_the_closest(tmp_path: Path) -> None:
    header = [label for label in labels("MEN_PMSI_MENCUMU") if label != "DMS mensuel MCO Chirurgie"]
    header = [label for label in header if "HTP SSR" not in label]
    path = write(tmp_path / "m.CSV", header, [])
    with pytest.raises(UnreadableFile) as refused:
        DiamantFile(path, MEN_PMSI_MENCUMU)
    assert "« Nombre de journées mensuelles HTP SSR »" in str(refused.value)
    assert "génération d'en-tête la plus proche" in str(refused.value)


def test_quoted_cells_are_unquoted(tmp_path: Path) -> None:
    path = tmp_path / "q.CSV"
    path.write_text('Finess;Année;Nombre de passages aux urgences\n"010008407";2024;"12"\n')
    assert list(DiamantFile(path, ANN_RPU).lines()) == [(2, ["010008407", "2024", "12"])]
