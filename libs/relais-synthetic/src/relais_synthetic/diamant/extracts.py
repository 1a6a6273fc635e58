"""Deterministic synthetic DIAMANT extracts: the 11 plain-text CSV files, with the real labels and quirks.

Establishments come from a synthetic FINESS referential (relais_synthetic.finess), so every number is valid and
known to a pipeline that loaded the same referential: health sources list health sites, medico-social sources
medico-social sites, by catégorie. Same seed, same bytes: every source draws from its own random stream. Files are
written row by row (memory does not grow with the number of rows). The real quirks are switchable (`Quirks`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import partial
from pathlib import Path

from relais_diamant.sources import DiamantSource
from relais_finess.referential import is_active
from relais_synthetic.diamant.encrypt import encrypt_extracts
from relais_synthetic.diamant.source_rows import Context, Maker
from relais_synthetic.diamant.tables import HEALTH_FAMILIES, MEDICO_SOCIAL_FAMILIES
from relais_synthetic.diamant.values import RowBuilder, Site
from relais_synthetic.diamant.writer import LAYOUTS, RowWriter
from relais_synthetic.finess import SyntheticReferential, generate_referential, random_finess

_SIZE_BY_CATEGORY = {"101": 4.0, "124": 0.15, "128": 0.6, "109": 0.5, "292": 0.8, "365": 0.9}

Progress = Callable[[DiamantSource, int], None]

# Annual accounts and activity reports exist for closed years only; monthly PMSI and HAPI campaigns run this year.
_CLOSED_YEARS_ONLY = frozenset(
    {source for source in DiamantSource if source.value.startswith("ANN_")} | {DiamantSource.QUO_SAN_FINANCE}
)


@dataclass(frozen=True, slots=True)
class Quirks:
    """The oddities of real extracts, each switchable; all on by default."""

    duplicate_keys: bool = True  # same key twice (an ET attached to two EJs, a deposit listed twice)
    blank_annee: bool = True  # empty `Année` (or `Année Campagne HAPI`) on a few rows
    unknown_finess: bool = True  # valid FINESS numbers absent from the referential
    blank_finess: bool = (
        True  # empty establishment FINESS, a null key (not in QUO_SAN_FINANCE: EJ rows are that)
    )
    quo_san_et_rows_first: bool = True  # QUO_SAN_FINANCE: some ET rows come before their EJ row
    mixed_line_endings: bool = True  # CRLF lines with a few LF ones

    @classmethod
    def none(cls) -> Quirks:
        return cls(**{field.name: False for field in fields(cls)})


@dataclass(frozen=True, slots=True)
class Establishments:
    sanitaires: tuple[Site, ...]
    medico_sociaux: tuple[Site, ...]
    known: frozenset[str]  # every number of the referential (EJ and ET), to invent unknown ones


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    source: DiamantSource
    path: Path
    rows: int  # data rows, header excluded


def file_name(source: DiamantSource, extraction_date: date, encrypted: bool = False) -> str:
    """`<PREFIX>_YYYY_MM_DD.CSV`, `.CSV.gpg` once encrypted: the exact DIAMANT names."""
    return f"{source.value}_{extraction_date:%Y_%m_%d}.CSV" + (".gpg" if encrypted else "")


def mencumu_generation_for(extraction_date: date) -> int:
    """The MEN_PMSI_MENCUMU layout DIAMANT produced at a given date: 2023 (old labels), 2024 or 2025."""
    return min(max(extraction_date.year, 2023), 2025)


def establishments_from(
    referential: SyntheticReferential,
    seed: int,
    sanitaires: int | None = None,
    medico_sociaux: int | None = None,
) -> Establishments:
    """The first `sanitaires` health and `medico_sociaux` medico-social ETs open at the referential's date
    (all of them when None), with a stable size and set of activities each."""
    health: list[Site] = []
    social: list[Site] = []
    for et in referential.etablissements:
        if not is_active(et, referential.reference_date):
            continue
        draw = random.Random(f"{seed}:{et.numero}")
        size = min(max(draw.lognormvariate(0, 0.5), 0.2), 5.0)
        if et.categorie in HEALTH_FAMILIES and (sanitaires is None or len(health) < sanitaires):
            size *= _SIZE_BY_CATEGORY.get(et.categorie, 1.0)
            health.append(
                Site(et.numero, et.numero_ej, et.departement or "", size, HEALTH_FAMILIES[et.categorie])
            )
        elif et.categorie in MEDICO_SOCIAL_FAMILIES and (
            medico_sociaux is None or len(social) < medico_sociaux
        ):
            camsp = draw.random() < 0.05
            families = MEDICO_SOCIAL_FAMILIES[et.categorie] | {"CAMSP" if camsp else "ESMS"}
            social.append(Site(et.numero, et.numero_ej, et.departement or "", size, families))
    known = frozenset(
        [ej.numero for ej in referential.entites_juridiques]
        + [et.numero for et in referential.etablissements]
    )
    return Establishments(tuple(health), tuple(social), known)


def referential_for(seed: int, sanitaires: int, medico_sociaux: int) -> tuple[SyntheticReferential, int]:
    """The smallest synthetic referential (of this seed, in 10 % steps) holding that many open sites of each
    sector, and its number of EJs (to regenerate the same referential with `relais generate finess`)."""
    entites = max(math.ceil(max(sanitaires / 0.95, medico_sociaux / 1.5) * 1.05), 10)
    while True:
        referential = generate_referential(seed, entites)
        found = establishments_from(referential, seed)
        if len(found.sanitaires) >= sanitaires and len(found.medico_sociaux) >= medico_sociaux:
            return referential, entites
        entites = math.ceil(entites * 1.1)


def _unknown_numbers(known: frozenset[str], rng: random.Random) -> Iterator[str]:
    while True:
        candidate = random_finess(rng)
        if candidate not in known:
            yield candidate


def write_diamant_files(
    establishments: Establishments,
    out: Path,
    *,
    seed: int,
    years: Iterable[int],
    extraction_date: date,
    quirks: Quirks | None = None,
    mencumu_generation: int | None = None,
    null_share: float = 0.02,
    sources: Iterable[DiamantSource] = tuple(DiamantSource),
    progress: Progress | None = None,
) -> list[GeneratedFile]:
    """Writes one plain-text file per source in `out`, named as DIAMANT names them, and says what it wrote.

    Annual sources (ANN_*, QUO_SAN_FINANCE) leave out the years not closed at the extraction date."""
    quirks = quirks if quirks is not None else Quirks()
    generation = mencumu_generation or mencumu_generation_for(extraction_date)
    all_years = tuple(sorted(set(years)))
    context = Context(
        seed,
        all_years,
        extraction_date,
        establishments.sanitaires,
        establishments.medico_sociaux,
        quirks.quo_san_et_rows_first,
    )
    ejs = sorted({site.finess_ej for site in establishments.sanitaires + establishments.medico_sociaux})
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        rng = random.Random(f"{seed}:{source.value}")
        if source in _CLOSED_YEARS_ONLY:
            context = replace(context, years=tuple(y for y in context.years if y < extraction_date.year))
        else:
            context = replace(context, years=all_years)
        layout = LAYOUTS[source]
        columns = layout.columns(generation)
        builder = RowBuilder(columns, null_share)
        makers: Iterator[Maker] = layout.rows(context, builder, rng)
        path = out / file_name(source, extraction_date)
        writer = RowWriter(
            builder.labels, layout, quirks, rng, _unknown_numbers(establishments.known, rng), ejs
        )
        rows = writer.write(path, makers, partial(progress, source) if progress else None)
        written.append(GeneratedFile(source, path, rows))
    return written


def write_diamant_extracts(
    out: Path,
    establishments: Establishments,
    *,
    seed: int,
    years: list[int],
    extraction_date: date,
    quirks: Quirks,
    encrypt_to: Path | None,
    keep_plaintext: bool = False,
    mencumu_generation: int | None = None,
    progress: Progress | None = None,
) -> list[tuple[Path, int]]:
    """The 11 DIAMANT extracts for these establishments, encrypted as DIAMANT sends them when a public key is
    given: (file, data rows) each."""
    written = write_diamant_files(
        establishments,
        out,
        seed=seed,
        years=years,
        extraction_date=extraction_date,
        quirks=quirks,
        mencumu_generation=mencumu_generation,
        progress=progress,
    )
    if encrypt_to is None:
        return [(generated.path, generated.rows) for generated in written]
    encrypted = encrypt_extracts([g.path for g in written], encrypt_to, keep_plaintext=keep_plaintext)
    return [(path, generated.rows) for path, generated in zip(encrypted, written, strict=True)]
