import dataclasses
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from relais_finess import is_valid
from relais_rpu import Passage, RejectedRecord, check_passage, covered_days, open_rpu
from relais_synthetic.rpu import SyntheticRegion, day_records, monthly_file, rolling_file, synthetic_region

J = date(2024, 3, 12)


def read(path: Path) -> list[Passage | RejectedRecord]:
    with open_rpu(path) as rpu:
        return list(rpu)


def by_day(records: list[Passage | RejectedRecord]) -> dict[date, list[Passage]]:
    days: dict[date, list[Passage]] = {}
    for record in records:
        if isinstance(record, Passage):
            days.setdefault(record.entree.date(), []).append(dataclasses.replace(record, record_number=0))
    return days


def test_region_is_deterministic_with_valid_finess_and_varied_sizes() -> None:
    region = synthetic_region(11, 30)
    assert region == synthetic_region(11, 30)
    assert region != synthetic_region(12, 30)
    assert all(is_valid(e.finess) and is_valid(e.file_finess) for e in region.establishments)
    assert len({e.finess for e in region.establishments}) == 30
    sizes = [e.annual_passages for e in region.establishments]
    assert min(sizes) < 20_000 < max(sizes)
    assert 20_000 < sum(sizes) / len(sizes) < 45_000


def test_a_day_is_the_same_whoever_asks_for_it() -> None:
    region = synthetic_region(11, 2)
    est = region.establishments[0]
    first = day_records(region, est, J)
    day_records(region, est, J + timedelta(days=1))
    assert day_records(region, est, J) == first
    assert day_records(synthetic_region(11, 2), est, J) == first
    assert day_records(region, region.establishments[1], J) != first


def test_volumes_and_code_distributions_look_real() -> None:
    region = synthetic_region(3, 1, invalid_rate=0.0)
    est = dataclasses.replace(region.establishments[0], annual_passages=30_000)
    region = dataclasses.replace(region, establishments=(est,))
    week = [day_records(region, est, J + timedelta(days=d)) for d in range(28)]
    daily = [len(day) for day in week]
    assert 60 < sum(daily) / len(daily) < 110  # ~30,000 a year
    mondays = [len(day) for offset, day in enumerate(week) if (J + timedelta(days=offset)).weekday() == 0]
    assert sum(mondays) / len(mondays) > sum(daily) / len(daily)
    passages = [record.passage for day in week for record in day]
    modes = Counter(p.mode_entree for p in passages)
    assert modes["8"] / len(passages) > 0.9
    gravite = Counter(p.gravite for p in passages)
    assert (gravite["1"] + gravite["2"]) / len(passages) > 0.75
    failing = sum(1 for p in passages if check_passage(p))
    assert failing / len(passages) < 0.2  # free-text motifs only


def test_invalid_share_is_tunable() -> None:
    region = synthetic_region(5, 3, invalid_rate=0.2)
    records = [r for est in region.establishments for d in range(7)
               for r in day_records(region, est, J + timedelta(days=d))]  # fmt: skip
    share = sum(1 for r in records if r.defect) / len(records)
    assert 0.15 < share < 0.25


def test_overlapping_rolling_files_agree_on_shared_days(tmp_path: Path) -> None:
    region = synthetic_region(21, 6, invalid_rate=0.02)
    for est in region.establishments:
        today = by_day(read(rolling_file(region, est, J, tmp_path / "j")))
        tomorrow = by_day(read(rolling_file(region, est, J + timedelta(days=1), tmp_path / "j1")))
        assert sorted(today) == [J - timedelta(days=d) for d in range(7, 0, -1)]
        for day in [J - timedelta(days=d) for d in range(6, 0, -1)]:
            assert today[day] == tomorrow[day]


def test_monthly_catch_up_agrees_with_rolling_files(tmp_path: Path) -> None:
    region = synthetic_region(21, 3)
    for est in region.establishments:
        month = by_day(read(monthly_file(region, est, 2024, 3, tmp_path / "m")))
        rolling = by_day(read(rolling_file(region, est, J, tmp_path / "r")))
        assert len(month) == 31
        for day, passages in rolling.items():
            assert month[day] == passages


def test_catch_up_header_is_the_month_and_file_names_follow_conventions(tmp_path: Path) -> None:
    region = synthetic_region(21, 20, departements=("67", "75"))
    names = set()
    for est in region.establishments:
        path = monthly_file(region, est, 2024, 2, tmp_path)
        names.add(path.name)
        with open_rpu(path) as rpu:
            assert (rpu.header.date_debut, rpu.header.date_fin) == (date(2024, 2, 1), date(2024, 2, 29))
            assert rpu.header.finess == est.finess
            rolling = rolling_file(region, est, J, tmp_path)
            assert rolling.exists()
    pattern = re.compile(r"RPU_[0-9AB]{9}_\d{6}\.xml|O[0-9AB]{9}_0_\d{14}\.xml")
    assert all(pattern.fullmatch(name) for name in names)
    assert any(name.startswith("RPU_") for name in names) and any(name.startswith("O") for name in names)


def test_generated_files_show_the_real_world_quirks(tmp_path: Path) -> None:
    region = synthetic_region(8, 40, departements=("67", "68", "75"), invalid_rate=0.05)
    seen: Counter[str] = Counter()
    for est in region.establishments:
        path = rolling_file(region, est, J, tmp_path)
        head = path.read_bytes()
        seen["crlf"] += b"\r\n" in head
        seen["no_declaration"] += b"encoding=" not in head[:100]
        seen["iso"] += b'encoding="ISO-8859-1"' in head[:100]
        seen["repeated_passages"] += head.count(b"<PASSAGES>") > 1
        seen["extras"] += b"<HMED>" in head
        seen["seconds"] += re.search(rb"<ENTREE>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d<", head) is not None
        seen["shuffled"] += re.search(rb"<PATIENT>\s*<(?!CP)", head) is not None
        seen["dp_variant"] += re.search(rb"<DP>[A-Z]\d\d\.\d|<DP>[a-z]", head) is not None
        seen["file_finess_differs"] += est.finess not in path.name
        records = read(path)
        seen["rejected"] += any(isinstance(r, RejectedRecord) for r in records)
        with open_rpu(path) as rpu:
            window = {rpu.header.date_debut, rpu.header.date_fin}
            passages = [r for r in records if isinstance(r, Passage)]
            seen["header_mismatch"] += (
                covered_days(rpu.header, passages) != set().union(*({p.entree.date()} for p in passages))
                or len(window) == 1
            )
    assert all(seen[quirk] > 0 for quirk in (
        "crlf", "no_declaration", "iso", "repeated_passages", "extras", "seconds", "shuffled", "dp_variant",
        "file_finess_differs", "rejected", "header_mismatch")), seen  # fmt: skip


def test_region_type_is_exported() -> None:
    assert isinstance(synthetic_region(1, 1), SyntheticRegion)
