"""`relais generate …`: synthetic data with the real formats and quirks (no real data exists here)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from relais_finess.synthetic import generate_referential
from relais_finess.synthetic_files import (
    write_entites_juridiques_csv,
    write_entites_juridiques_xml_gz,
    write_etablissements_csv,
    write_etablissements_xml_gz,
)

generate_app = typer.Typer(help="Synthetic data generators.", no_args_is_help=True)


def write_finess_files(out: Path, entites: int, seed: int, extract: date, opendata: bool) -> list[Path]:
    """A synthetic FINESS referential as the ministry's XML flux (default) or the open-data CSV extracts."""
    out.mkdir(parents=True, exist_ok=True)
    referential = generate_referential(seed, entites)
    stamp = extract.strftime("%Y%m%d") + "-0400"
    if opendata:
        ej, et = out / f"etalab-cs1100501-stock-{stamp}.csv", out / f"etalab-cs1100507-stock-{stamp}.csv"
        write_entites_juridiques_csv(referential, ej)
        write_etablissements_csv(referential, et)
    else:
        ej, et = (
            out / f"finess_cs1400101_stock_{stamp}.xml.gz",
            out / f"finess_cs1400102_stock_{stamp}.xml.gz",
        )
        write_entites_juridiques_xml_gz(referential, ej)
        write_etablissements_xml_gz(referential, et)
    return [ej, et]


@generate_app.command("finess")
def generate_finess(
    out: Path = typer.Option(Path("var/generated/finess"), help="Output folder."),
    entites: int = typer.Option(200, help="Number of entités juridiques (each with 1..5 ETs)."),
    seed: int = typer.Option(1, help="Same seed, same referential."),
    opendata: bool = typer.Option(False, help="Open-data CSV extracts instead of the ministry's XML flux."),
) -> None:
    """A synthetic FINESS referential with valid keys, real catégories, closed and caduc structures."""
    for path in write_finess_files(out, entites, seed, date.today(), opendata):
        typer.echo(f"{path}  {path.stat().st_size} bytes")
