from datetime import date

import pytest

from relais_diamant.sources import DiamantSource, match_file_name


def test_eleven_sources() -> None:
    assert len(DiamantSource) == 11


@pytest.mark.parametrize("source", list(DiamantSource))
def test_every_source_is_recognised_by_its_exact_name(source: DiamantSource) -> None:
    assert match_file_name(f"{source.value}_2026_11_16.CSV.gpg") == (source, date(2026, 11, 16))


def test_ann_errd_ej_does_not_catch_ann_errd_ej_et() -> None:
    assert match_file_name("ANN_ERRD_EJ_ET_2026_11_16.CSV.gpg") == (
        DiamantSource.ANN_ERRD_EJ_ET,
        date(2026, 11, 16),
    )
    assert match_file_name("ANN_ERRD_EJ_2026_11_16.CSV.gpg") == (
        DiamantSource.ANN_ERRD_EJ,
        date(2026, 11, 16),
    )


@pytest.mark.parametrize(
    "name",
    [
        "ann_rpu_2026_11_16.CSV.gpg",  # case-sensitive
        "ANN_RPU_2026_11_16.csv.gpg",
        "ANN_RPU_2026_11_16.CSV.gpg.part",
        "XANN_RPU_2026_11_16.CSV.gpg",
        "ANN_RPU_2026_02_30.CSV.gpg",  # no such day
        "ANN_RPU_20261116.CSV.gpg",
        "ANN_ERRD_EJ_ET_X_2026_11_16.CSV.gpg",
    ],
)
def test_anything_else_is_ignored(name: str) -> None:
    assert match_file_name(name) is None
