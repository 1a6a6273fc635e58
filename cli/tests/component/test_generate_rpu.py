"""`relais generate rpu`: a region's rolling or monthly files, valid FINESS, spec file names, invalid records."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from relais_cli.generate import generate_app, write_rpu_files
from relais_finess import is_valid
from relais_rpu import Passage, RejectedRecord, open_rpu

NAME = re.compile(r"RPU_[0-9AB]{9}_\d{6}\.xml|O[0-9AB]{9}_0_\d{14}\.xml")


def test_rolling_files_one_per_establishment_and_day_named_as_in_the_spec(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["rpu", "--out", str(out), "--etablissements", "4", "--from", "2026-09-01", "--days", "2"]
    args += ["--seed", "7", "--departements", "67,75", "--invalid-share", "0.1"]
    result = CliRunner().invoke(generate_app, args)

    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert len(files) == 8 and all(NAME.fullmatch(p.name) for p in files)
    assert "8 files" in result.output
    finess, rejected, passages = set(), 0, 0
    for path in files:
        with open_rpu(path) as rpu:
            finess.add(rpu.header.finess)
            records = list(rpu)
        rejected += sum(isinstance(r, RejectedRecord) for r in records)
        passages += sum(isinstance(r, Passage) for r in records)
        entrees = {r.entree.date() for r in records if isinstance(r, Passage)}
        window = {date(2026, 8, d) for d in range(25, 32)} | {date(2026, 9, 1)}  # J−7..J−1 of 1 and 2 Sept
        assert entrees <= window, path.name
    assert len(finess) == 4 and all(is_valid(f) for f in finess)
    assert passages > 0 and rejected > 0  # 10 % invalid, of which ~40 % lose their ENTREE


def test_monthly_catch_up_files_cover_each_month_of_the_period_and_are_deterministic(tmp_path: Path) -> None:
    first = write_rpu_files(tmp_path / "a", etablissements=2, first=date(2026, 8, 20), days=20, seed=3,
                            invalid_share=0.0, monthly=True)  # fmt: skip
    again = write_rpu_files(tmp_path / "b", etablissements=2, first=date(2026, 8, 20), days=20, seed=3,
                            invalid_share=0.0, monthly=True)  # fmt: skip

    assert len(first) == 4  # 2 establishments × (August, September)
    windows = set()
    for generated in first:
        with open_rpu(generated.path) as rpu:
            windows.add((rpu.header.date_debut, rpu.header.date_fin))
            assert sum(1 for _ in rpu) == generated.records > 0
    assert windows == {(date(2026, 8, 1), date(2026, 8, 31)), (date(2026, 9, 1), date(2026, 9, 30))}
    assert [g.path.read_bytes() for g in first] == [g.path.read_bytes() for g in again]
