"""Duplicated keys of one block, settled as spec §5 and `rules.rank` say, whatever the order of the rows.

Most keys are claimed by one row, which wins outright. The rows of a contested key (a few per cent of a file) are
ranked by `rules.rank`, one Python call each: the row whose `Finess EJ` is the ET's EJ in the referential, then the
row with the most filled value cells, then the highest content digest; identical rows tie, and the earliest line
wins a tie. Every other claimant is a duplicate, reported with the line that was kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from relais_diamant import rules
from relais_diamant.frames import LINE, ROW

KEPT_LINE = "kept_line"
DROPPED_LINE = "dropped_line"
_RANK_HIGH = "_rank_high"  # rules.rank is wider than 64 bits: EJ agreement and filled cells…
_RANK_LOW = "_rank_low"  # … then the content digest
_DIGEST_BITS = 64


@dataclass(frozen=True, slots=True)
class Claims:
    """How the candidates of one block (frames with LINE, ROW and the key columns) claim their keys."""

    keys: Sequence[str]  # the key columns
    cells: Callable[[Sequence[int]], Sequence[Sequence[str]]]  # the raw value cells that rank the given ROWs
    et_ej: tuple[str, str] | None  # (ET number, `Finess EJ` number) columns when the EJ may settle a tie
    ej_of_et: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Settled:
    kept: pl.Series  # Boolean, per candidate: it wins its key
    # The key columns, KEPT_LINE and DROPPED_LINE of every losing row, by dropped line.
    duplicates: pl.DataFrame


def settle(candidates: pl.DataFrame, claims: Claims) -> Settled:
    keys = list(claims.keys)
    # Keys claimed more than once, found by their hash (a collision only makes a row a claimant of its own key).
    contested = candidates.select(pl.struct(keys).hash().is_duplicated()).to_series()
    if not contested.any():
        empty = candidates.select(keys).clear()
        return Settled(
            pl.repeat(True, candidates.height, eager=True),
            empty.with_columns(pl.lit(None, pl.UInt32).alias(c) for c in (KEPT_LINE, DROPPED_LINE)),
        )
    claimants = candidates.filter(contested).select(LINE, ROW, *keys, *(claims.et_ej or ()))
    ranked = claimants.with_columns(_ranks(claimants, claims)).sort(
        [_RANK_HIGH, _RANK_LOW, LINE], descending=[True, True, False]
    )
    best = ranked.unique(subset=keys, keep="first", maintain_order=True).select(
        *keys, pl.col(LINE).alias(KEPT_LINE)
    )
    kept = ~contested | candidates.get_column(LINE).is_in(best.get_column(KEPT_LINE).implode())
    duplicates = (
        claimants.join(best, on=keys, how="inner")
        .filter(pl.col(LINE) != pl.col(KEPT_LINE))
        .select(*keys, KEPT_LINE, pl.col(LINE).alias(DROPPED_LINE))
        .sort(DROPPED_LINE)
    )
    return Settled(kept, duplicates)


def _ranks(claimants: pl.DataFrame, claims: Claims) -> list[pl.Series]:
    rows = claimants.get_column(ROW).to_list()
    cells = claims.cells(rows)
    if claims.et_ej is None:
        agreements = [False] * len(rows)
    else:
        et, ej = (claimants.get_column(column).to_list() for column in claims.et_ej)
        agreements = [e is not None and claims.ej_of_et.get(n) == e for n, e in zip(et, ej, strict=True)]
    ranks = [rules.rank(row, agrees) for row, agrees in zip(cells, agreements, strict=True)]
    low = (1 << _DIGEST_BITS) - 1
    return [
        pl.Series(_RANK_HIGH, [rank >> _DIGEST_BITS for rank in ranks], dtype=pl.UInt64),
        pl.Series(_RANK_LOW, [rank & low for rank in ranks], dtype=pl.UInt64),
    ]
