"""`CompletenessAccumulator.add_all` (the integration's hot path) counts exactly what `add` counts, item by item."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from relais_rpu import CompletenessAccumulator, Passage
from relais_synthetic.rpu import COMPLETE_PASSAGE, day_records, synthetic_region


def passages() -> list[Passage]:
    region = synthetic_region(17, 6, departements=("67", "75"), invalid_rate=0.1)
    found = [r.passage for est in region.establishments for d in range(3)
             for r in day_records(region, est, date(2026, 9, 1) + timedelta(days=d))]  # fmt: skip
    edge = [
        Passage(entree=COMPLETE_PASSAGE.entree),  # nothing but ENTREE
        dataclasses.replace(
            COMPLETE_PASSAGE,
            naissance=None,
            sortie=None,
            unparsed=(("NAISSANCE", "31/02/1950"), ("SORTIE", "demain")),
        ),
        dataclasses.replace(COMPLETE_PASSAGE, orient="PSA", dp=None, mode_sortie="8", destination=None),
        dataclasses.replace(COMPLETE_PASSAGE, mode_sortie="7", destination=None, orient=None),
        dataclasses.replace(COMPLETE_PASSAGE, mode_sortie=None, orient="REO"),
    ]
    return found + edge


def test_add_all_counts_exactly_what_add_counts() -> None:
    sample = passages()
    one_by_one, batched = CompletenessAccumulator(), CompletenessAccumulator()
    for passage in sample:
        one_by_one.add(passage)
    batched.add_all(sample[:100])
    batched.add_all(sample[100:])
    batched.add_all([])

    assert len(sample) > 500
    assert batched.report() == one_by_one.report()
    assert batched.passages == one_by_one.passages == len(sample)
    assert {c.item for c in batched.report() if c.expected < len(sample)} == {"DP", "DESTINATION", "ORIENT"}
