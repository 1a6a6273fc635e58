"""Value cells read by column accept and refuse exactly what the Python parsers of `rules` accept and refuse."""

import random
from datetime import date
from typing import Any

import polars as pl
import pytest

from relais_diamant import rules
from relais_diamant.cells import parse_cells
from relais_diamant.definitions import Kind

TRICKY = [
    *("0.9977", ".1197", "2.112E-2", "-12.5", "-1520000.5", "12", "12.0", "12.5", "-0", "00012", "5.", "-.5"),
    *(
        ".5e3",
        "1E5",
        "1e+05",
        "+5",
        " 3.5 ",
        "3.5 ",
        "",
        " ",
        "\t",
        "1,5",
        "1 234",
        "KO",
        "abc",
        "nan",
        "NaN",
    ),
    *(
        "inf",
        "-inf",
        "Infinity",
        "1_000",
        "1e999",
        "-1e999",
        "0x10",
        "1e",
        "e5",
        ".",
        "-",
        "+",
        "١٢",
        "\x1c5\x1c",
    ),
    *("\xa05", "5\u2003", "9" * 18, "9.2e18", "1e19", "-9.3e18", "9" * 25, "1e-400", "2024.0", "٣.٥"),
]
DATES = [
    "01/07/2022",
    " 9/1/2020 ",
    "",
    "2022-07-01",
    "31/02/2022",
    "01/07/22",
    "KO",
    "1/1/0001",
    "1/" + "9" * 30,
]


def python_reading(kind: Kind, raw: str) -> tuple[Any, bool]:
    """What the streaming transform made of a cell: the parser's value, or null and noted when it refused it."""
    try:
        value = rules.VALUE_PARSERS[kind](raw)
    except (ValueError, OverflowError):
        return None, True
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return None, True  # beyond Int64: refused by the column transform (a bigint column could not hold it)
    return value, False


def column_reading(kind: Kind, cells: list[str]) -> list[tuple[Any, bool]]:
    parsed = parse_cells(pl.DataFrame({"c": cells}, schema={"c": pl.String}).lazy(), {"c": kind})
    refused = set(parsed.refused["c"].get_column("_index").to_list()) if "c" in parsed.refused else set()
    return [(value, row in refused) for row, value in enumerate(parsed.values.get_column("c").to_list())]


@pytest.mark.parametrize("kind", [Kind.FLOAT, Kind.INTEGER, Kind.TEXT, Kind.TEXT_KEY])
def test_tricky_cells_are_read_as_the_python_parsers_read_them(kind: Kind) -> None:
    assert column_reading(kind, TRICKY) == [python_reading(kind, cell) for cell in TRICKY]


def test_dates_are_read_as_rules_parse_date_reads_them() -> None:
    assert column_reading(Kind.DATE, DATES) == [python_reading(Kind.DATE, cell) for cell in DATES]
    assert column_reading(Kind.DATE, ["01/07/2022"]) == [(date(2022, 7, 1), False)]


def test_the_refused_raw_text_is_kept_for_the_report() -> None:
    parsed = parse_cells(pl.DataFrame({"c": ["1", "1,5", "2", "KO"]}).lazy(), {"c": Kind.FLOAT})
    assert parsed.refused["c"].rows() == [(1, "1,5"), (3, "KO")]


def test_random_decimals_read_by_polars_equal_pythons_float() -> None:
    draw = random.Random(20261205)
    cells = []
    for _ in range(20_000):
        digits = "".join(draw.choice("0123456789") for _ in range(draw.randint(1, 20)))
        point = draw.randint(0, len(digits))
        text = digits[:point] + "." + digits[point:] if draw.random() < 0.7 else digits
        if draw.random() < 0.3:
            text += draw.choice("eE") + draw.choice(["", "-", "+"]) + str(draw.randint(0, 330))
        cells.append(("-" if draw.random() < 0.3 else "") + text)
    for kind in (Kind.FLOAT, Kind.INTEGER):
        assert column_reading(kind, cells) == [python_reading(kind, cell) for cell in cells]


def test_integers_given_as_integral_decimals_are_integers() -> None:
    assert column_reading(Kind.INTEGER, ["12.0", "1E2", "12.5", ""]) == [
        (12, False),
        (100, False),
        (None, True),
        (None, False),
    ]
