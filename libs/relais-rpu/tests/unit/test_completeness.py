import dataclasses
from datetime import date, datetime

from relais_rpu import PASSAGE_ITEMS, CompletenessAccumulator, Passage, RpuHeader, covered_days
from relais_synthetic.rpu import COMPLETE_PASSAGE, EXAMPLE_ENTREE

ENTREE = EXAMPLE_ENTREE
FULL = COMPLETE_PASSAGE


def rates(accumulator: CompletenessAccumulator) -> dict[str, float | None]:
    return {item.item: item.rate for item in accumulator.report()}


def test_fully_filled_passages_are_complete_on_every_item() -> None:
    accumulator = CompletenessAccumulator()
    for _ in range(3):
        accumulator.add(FULL)
    assert accumulator.passages == 3
    assert set(rates(accumulator).values()) == {1.0}
    assert [item.item for item in accumulator.report()] == list(PASSAGE_ITEMS)
    assert accumulator.below_target() == ()


def test_target_is_eighty_percent() -> None:
    accumulator = CompletenessAccumulator()
    for index in range(10):
        accumulator.add(
            dataclasses.replace(FULL, cp=None if index < 2 else "67600", sexe=None if index < 3 else "F")
        )
    report = {item.item: item for item in accumulator.report()}
    assert report["CP"].rate == 0.8 and report["CP"].meets_target
    assert report["SEXE"].rate == 0.7 and not report["SEXE"].meets_target
    assert [item.item for item in accumulator.below_target()] == ["SEXE"]


def test_destination_and_orient_are_counted_on_hospitalised_only() -> None:
    accumulator = CompletenessAccumulator()
    accumulator.add(FULL)  # hospitalised, filled
    accumulator.add(dataclasses.replace(FULL, mode_sortie="7", destination=None, orient=None))
    for _ in range(5):  # discharged home, empty as expected: not counted
        accumulator.add(dataclasses.replace(FULL, mode_sortie="8", destination=None, orient=None))
    report = {item.item: item for item in accumulator.report()}
    assert (report["DESTINATION"].filled, report["DESTINATION"].expected) == (1, 2)
    assert (report["ORIENT"].filled, report["ORIENT"].expected) == (1, 2)


def test_dp_is_not_expected_from_patients_who_left_before_being_seen() -> None:
    accumulator = CompletenessAccumulator()
    accumulator.add(FULL)
    for orient in ("FUGUE", "PSA", "SCAM", "REO"):
        accumulator.add(dataclasses.replace(FULL, mode_sortie="8", destination=None, orient=orient, dp=None))
    report = {item.item: item for item in accumulator.report()}
    assert (report["DP"].filled, report["DP"].expected) == (1, 1)


def test_unreadable_but_sent_values_count_as_filled() -> None:
    accumulator = CompletenessAccumulator()
    accumulator.add(dataclasses.replace(FULL, naissance=None, unparsed=(("NAISSANCE", "00/00/1950"),)))
    assert rates(accumulator)["NAISSANCE"] == 1.0


def test_no_expected_passage_gives_no_rate_and_no_alarm() -> None:
    accumulator = CompletenessAccumulator()
    accumulator.add(dataclasses.replace(FULL, mode_sortie="8", destination=None, orient=None))
    report = {item.item: item for item in accumulator.report()}
    assert report["ORIENT"].rate is None and report["ORIENT"].meets_target


def at(day: int) -> Passage:
    return dataclasses.replace(FULL, entree=datetime(2024, 1, day, 12, 0))


def days(first: int, last: int) -> frozenset[date]:
    return frozenset(date(2024, 1, d) for d in range(first, last + 1))


def test_covered_days_is_header_window_union_entree_span() -> None:
    header = RpuHeader("670780055", "0", datetime(2024, 1, 20, 3), date(2024, 1, 12), date(2024, 1, 18))
    assert covered_days(header, [at(5), at(3), at(7)]) == days(3, 7) | days(12, 18)


def test_covered_days_fills_the_gap_between_first_and_last_entree() -> None:
    header = RpuHeader("670780055", "0", None, date(2024, 1, 10), date(2024, 1, 10))
    assert covered_days(header, [at(1), at(9)]) == days(1, 10)


def test_covered_days_without_passages_is_the_header_window() -> None:
    header = RpuHeader("670780055", "0", None, date(2024, 1, 1), date(2024, 1, 31))
    assert covered_days(header, []) == days(1, 31)


def test_covered_days_with_an_incomplete_header() -> None:
    assert covered_days(RpuHeader("670780055"), [at(4)]) == days(4, 4)
    assert covered_days(RpuHeader("670780055", date_fin=date(2024, 1, 6)), []) == days(6, 6)
