"""`relais generate diamant`: the 11 extracts, encrypted to a public key, and the matching FINESS referential."""

from __future__ import annotations

from pathlib import Path

import pysequoia
import pytest
import typer
from typer.testing import CliRunner

from relais_cli.generate import generate_app, parse_years
from relais_diamant.sources import DiamantSource, match_file_name
from relais_stack.keys import ensure_platform_key


def test_years_are_read_as_ranges_or_lists() -> None:
    assert parse_years("2021-2025") == [2021, 2022, 2023, 2024, 2025]
    assert parse_years("2024,2021") == [2021, 2024]
    with pytest.raises(typer.BadParameter):
        parse_years("21-25")


def test_generate_diamant_writes_every_source_encrypted_with_its_row_count(tmp_path: Path) -> None:
    private, public = ensure_platform_key(tmp_path / "keys")
    out = tmp_path / "out"
    args = [
        "diamant",
        "--out",
        str(out),
        "--etablissements",
        "30",
        "--sanitaires",
        "6",
        "--years",
        "2023-2024",
    ]
    args += ["--seed", "4", "--date", "2025-02-03", "--encrypt-to", str(public), "--finess"]
    result = CliRunner().invoke(generate_app, args)
    assert result.exit_code == 0, result.output
    listed = {line.split("  ")[0]: line for line in result.output.splitlines() if line.startswith(str(out))}
    sources = {match_file_name(Path(name).name) for name in listed} - {None}
    assert {source for source, _ in sources} == set(DiamantSource)  # type: ignore[misc]
    assert not list(out.glob("*.CSV"))
    assert len(list((out / "finess").glob("finess_cs140010*_stock_*.xml.gz"))) == 2
    assert "--seed 4 --entites" in result.output
    rpu = out / "ANN_RPU_2025_02_03.CSV.gpg"
    rows = int(listed[str(rpu)].split("  ")[2].split()[0])
    plain = tmp_path / "rpu.csv"
    pysequoia.decrypt_file(str(rpu), str(plain), decryptor=pysequoia.Tsk.from_file(str(private)).decryptor())
    lines = plain.read_bytes().decode().splitlines()
    assert lines[0] == "Finess EJ;Finess;Année;Nombre de passages aux urgences"
    assert len(lines) - 1 == rows > 0
