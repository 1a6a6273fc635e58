"""`relais generate …`: synthetic data with the real formats and quirks (no real data exists here)."""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

import typer

from relais_diamant.sources import DiamantSource
from relais_synthetic.diamant import (
    Progress,
    Quirks,
    establishments_from,
    referential_for,
    write_diamant_extracts,
)
from relais_synthetic.finess import write_referential_files
from relais_synthetic.rpu import GeneratedFile, files_count, region_files, synthetic_region

generate_app = typer.Typer(help="Synthetic data generators.", no_args_is_help=True)


@generate_app.command("finess")
def generate_finess(
    out: Path = typer.Option(Path("var/generated/finess"), help="Output folder."),
    entites: int = typer.Option(200, help="Number of entités juridiques (each with 1..5 ETs)."),
    seed: int = typer.Option(1, help="Same seed, same referential."),
    opendata: bool = typer.Option(False, help="Open-data CSV extracts instead of the ministry's XML flux."),
) -> None:
    """A synthetic FINESS referential with valid keys, real catégories, closed and caduc structures."""
    for path in write_referential_files(out, entites, seed, date.today(), opendata):
        typer.echo(f"{path}  {path.stat().st_size} bytes")


def parse_years(text: str) -> list[int]:
    """`2021-2025`, `2021,2023` or `2024`."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    if not years or any(year < 1990 or year > 2100 for year in years):
        raise typer.BadParameter(f"years expected as 2021-2025 or 2021,2023, not {text!r}")
    return sorted(set(years))


def _progress_printer() -> Progress:
    live = sys.stderr.isatty()
    start = "\r" if live else ""  # on a terminal, one line rewritten; in a log, one line per step

    def show(source: DiamantSource, rows: int) -> None:
        typer.echo(f"{start}  {source.value}: {rows:,} rows", err=True, nl=not live)

    return show


@generate_app.command("diamant")
def generate_diamant(
    out: Path = typer.Option(Path("var/generated/diamant"), help="Output folder."),
    etablissements: int = typer.Option(100, help="Establishments (ETs) in the extracts, both sectors."),
    sanitaires: int | None = typer.Option(
        None, help="Of which health ETs (default 8 %, as nationally: ~3,500 of ~43,500)."
    ),
    years: str = typer.Option("2021-2025", help="Years, as 2021-2025 or 2021,2023."),
    seed: int = typer.Option(1, help="Same seed, same files (and the same FINESS referential)."),
    extraction_date: str | None = typer.Option(
        None, "--date", help="DIAMANT extraction date (YYYY-MM-DD) in the file names; default today."
    ),
    encrypt_to: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="OpenPGP public key: write .CSV.gpg files as DIAMANT sends them.",
    ),
    keep_plaintext: bool = typer.Option(False, help="With --encrypt-to, keep the .CSV files too."),
    quirks: bool = typer.Option(
        True,
        help="Real quirks: duplicate keys, blank Année, unknown or empty FINESS, EJ rows after ET rows, LF lines.",
    ),
    mencumu_generation: int | None = typer.Option(
        None, help="MEN_PMSI_MENCUMU layout: 2023 (labels 'cumulés'), 2024, 2025 (PSY, DMS); default by date."
    ),
    finess: bool = typer.Option(
        False, help="Also write the matching FINESS referential (XML flux) in OUT/finess."
    ),
) -> None:
    """Synthetic DIAMANT extracts: the 11 sources, real labels, valid FINESS of a synthetic referential."""
    health = (
        sanitaires if sanitaires is not None else max(round(etablissements * 0.08), min(etablissements, 1))
    )
    if not 0 <= health <= etablissements:
        raise typer.BadParameter("--sanitaires must lie between 0 and --etablissements")
    if mencumu_generation not in (None, 2023, 2024, 2025):
        raise typer.BadParameter("--mencumu-generation is 2023, 2024 or 2025")
    extracted = date.fromisoformat(extraction_date) if extraction_date else date.today()
    started = time.monotonic()
    referential, entites = referential_for(seed, health, etablissements - health)
    chosen = establishments_from(referential, seed, health, etablissements - health)
    typer.echo(
        f"FINESS referential: seed {seed}, {entites} entités juridiques "
        f"(relais generate finess --seed {seed} --entites {entites} gives the same one)"
    )
    typer.echo(f"establishments: {len(chosen.sanitaires)} health, {len(chosen.medico_sociaux)} medico-social")
    files = write_diamant_extracts(
        out,
        chosen,
        seed=seed,
        years=parse_years(years),
        extraction_date=extracted,
        quirks=Quirks() if quirks else Quirks.none(),
        encrypt_to=encrypt_to,
        keep_plaintext=keep_plaintext,
        mencumu_generation=mencumu_generation,
        progress=_progress_printer(),
    )
    if sys.stderr.isatty():
        typer.echo("", err=True)
    if finess:
        files += [
            (path, 0) for path in write_referential_files(out / "finess", entites, seed, extracted, False)
        ]
    for path, rows in files:
        typer.echo(f"{path}  {path.stat().st_size} bytes" + (f"  {rows} rows" if rows else ""))
    typer.echo(f"{sum(rows for _, rows in files):,} rows in {time.monotonic() - started:.1f} s")


def write_rpu_files(
    out: Path,
    *,
    etablissements: int,
    first: date,
    days: int,
    seed: int,
    invalid_share: float,
    monthly: bool = False,
    departements: tuple[str, ...] = ("67", "68"),
    progress: bool = False,
) -> list[GeneratedFile]:
    """The files a synthetic region's establishments send over the period (see `relais generate rpu`)."""
    region = synthetic_region(seed, etablissements, departements, invalid_rate=invalid_share)
    total = files_count(region, first, days, monthly=monthly)
    live = progress and sys.stderr.isatty()
    written: list[GeneratedFile] = []
    records, started, shown = 0, time.monotonic(), 0.0
    for generated in region_files(region, first, days, out, monthly=monthly):
        written.append(generated)
        records += generated.records
        now = time.monotonic()
        # On a terminal one line rewritten per file; in a log, a line every few seconds.
        if progress and (live or now - shown > 5 or len(written) == total):
            shown = now
            rate = records / max(now - started, 1e-6)
            typer.echo(
                f"{chr(13) if live else ''}  {len(written)}/{total} files, {records:,} RPU ({rate:,.0f}/s)",
                err=True,
                nl=not live,
            )
    if live:
        typer.echo("", err=True)
    return written


@generate_app.command("rpu")
def generate_rpu(
    out: Path = typer.Option(Path("var/generated/rpu"), help="Output folder."),
    etablissements: int = typer.Option(10, min=1, help="Establishments with an emergency department."),
    first: str = typer.Option(
        None, "--from", help="First sending day (YYYY-MM-DD); default: 7 days before today."
    ),
    days: int = typer.Option(7, min=1, help="Sending days (rolling) or period whose months are caught up."),
    monthly: bool = typer.Option(
        False,
        help="One catch-up file per establishment and month of the period instead of 7-day rolling files.",
    ),
    invalid_share: float = typer.Option(
        0.02, min=0.0, max=1.0, help="Share of invalid records (ENTREE missing or unreadable, bad codes, …)."
    ),
    seed: int = typer.Option(1, help="Same seed, same region and files."),
    departements: str = typer.Option(
        "67,68",
        help="Départements of the region; 67/68 files are named RPU_<FINESS>_<yymmdd>.xml (Alsace), "
        "others O<FINESS>_<ORDRE>_<yyyyMMddHHmmss>.xml (Île-de-France).",
    ),
) -> None:
    """Synthetic RPU files of a region: valid FINESS, realistic volumes and codes, the real-world quirks.

    Rolling (default): each sending day J, every establishment's file of J−7..J−1 (overlapping, as sent before
    04:00). Quirks: encodings declared or not, CRLF, PASSAGES repeated per patient, shuffled items, extra elements,
    DP spellings, header windows that do not match the passages, a FINESS in the file name that is not the one
    inside.
    """
    start = date.fromisoformat(first) if first else date.today() - timedelta(days=7)
    chosen = tuple(d.strip() for d in departements.split(",") if d.strip())
    started = time.monotonic()
    files = write_rpu_files(
        out,
        etablissements=etablissements,
        first=start,
        days=days,
        seed=seed,
        invalid_share=invalid_share,
        monthly=monthly,
        departements=chosen,
        progress=True,
    )
    for generated in files:
        typer.echo(f"{generated.path}  {generated.path.stat().st_size} bytes  {generated.records} RPU")
    records = sum(g.records for g in files)
    typer.echo(f"{len(files)} files, {records:,} RPU in {time.monotonic() - started:.1f} s")
