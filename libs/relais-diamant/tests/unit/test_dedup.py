"""Settling duplicated keys: the same winners and the same duplicates whatever the order of the rows."""

import itertools

import polars as pl

from relais_diamant.dedup import Claims, settle
from relais_diamant.frames import LINE, ROW

Row = tuple[int, str, str, str]  # line, key, two value cells


def settle_rows(
    rows: list[Row], et_ej: list[tuple[str, str]] | None = None, ej_of_et: dict[str, str] | None = None
) -> tuple[list[int], list[tuple[int, int]]]:
    """(winning lines, (kept, dropped) of each duplicate)."""
    lines, keys, _, _ = zip(*rows, strict=True)
    candidates = pl.DataFrame(
        {LINE: lines, ROW: range(len(rows)), "k": keys},
        schema={LINE: pl.UInt32, ROW: pl.UInt32, "k": pl.String},
    )
    if et_ej is not None:
        candidates = candidates.with_columns(
            pl.Series("et", [et for et, _ in et_ej]), pl.Series("ej", [ej for _, ej in et_ej])
        )
    cells = [(a, b) for _, _, a, b in rows]  # by ROW
    claims = Claims(
        ["k"], lambda asked: [cells[row] for row in asked], ("et", "ej") if et_ej else None, ej_of_et or {}
    )
    settled = settle(candidates, claims)
    winners = candidates.filter(settled.kept).get_column(LINE).to_list()
    return sorted(winners), list(settled.duplicates.select("kept_line", "dropped_line").iter_rows())


def test_settling_does_not_depend_on_row_order() -> None:
    rows = [
        (2, "k", "5", ""),
        (3, "k", "5", "7"),
        (4, "k", "6", "7"),
        (5, "k", "5", "7"),
        (6, "other", "1", ""),
    ]
    outcomes = {repr(settle_rows(list(order))) for order in itertools.permutations(rows)}
    assert len(outcomes) == 1
    winners, duplicates = settle_rows(rows)
    assert len(duplicates) == 3
    assert (
        6 in winners and len(winners) == 2 and (set(winners) - {6}) <= {3, 4}
    )  # a fuller row; 3 before 5, its twin
    kept = (set(winners) - {6}).pop()
    assert duplicates == [
        (kept, line) for line in sorted({2, 3, 4, 5} - {kept})
    ]  # every loser names the winner


def test_identical_rows_keep_the_first_line() -> None:
    assert settle_rows([(7, "k", "1", ""), (3, "k", "1", "")]) == ([3], [(3, 7)])


def test_the_referential_ej_wins_over_fuller_rows() -> None:
    rows: list[Row] = [(2, "x", "1", ""), (3, "x", "1", "2")]
    assert settle_rows(rows, [("E", "J"), ("E", "other")], {"E": "J"})[0] == [2]
    assert settle_rows(rows)[0] == [3]


def test_a_key_claimed_once_wins_without_duplicates() -> None:
    assert settle_rows([(2, "a", "1", ""), (3, "b", "", "")]) == ([2, 3], [])
