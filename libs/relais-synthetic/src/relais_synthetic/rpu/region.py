"""Deterministic synthetic RPU data: a region of establishments and the passages of any (FINESS, day).

The passages of a day come from a generator seeded with (region seed, FINESS, date) only, so every file that covers
that day — the rolling 7-day files of eight consecutive days, a monthly catch-up — carries exactly the same
passages, as real overlapping files do. File-level quirks come from the establishment's `SoftwareProfile`, fixed
for the region, because in real life they come from the establishment's ED software.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from relais_rpu.dates import format_datetime
from relais_rpu.model import Passage
from relais_rpu.write import OscourLayout
from relais_synthetic.finess import random_finess
from relais_synthetic.rpu.tables import (
    ACTES,
    AGE_BAND,
    CLINICAL,
    DA,
    DEFECT,
    DESTINATION_HOME,
    EXTRA_ELEMENTS,
    FREE_TEXT_MOTIFS,
    GRAVITE,
    HOSPITALISATION_BY_GRAVITE,
    HOUR_WEIGHT,
    MODE_ENTREE,
    MONTH_FACTOR,
    ORIENT_HOME,
    ORIENT_HOSPITAL,
    PLACES,
    PROVENANCE_HOME,
    PROVENANCE_HOSPITAL,
    SEXE,
    TRANSPORT,
    TRANSPORT_PEC,
    UHCD_EXTRAS,
    UNKNOWN_PLACES,
    WEEKDAY_FACTOR,
    Weighted,
)

_ENCODINGS = Weighted([(("iso-8859-1", True), 0.5), (("utf-8", True), 0.2), (("utf-8", False), 0.1),
                       (("cp1252", False), 0.1), (("iso-8859-15", True), 0.1)])  # fmt: skip
_HEADER_WINDOWS = Weighted([("exact", 0.7), ("last_day", 0.2), ("extract_day", 0.1)])


@dataclass(frozen=True, slots=True)
class SoftwareProfile:
    """What an establishment's ED software does to its files."""

    layout: OscourLayout
    shuffle_items: bool
    extras: bool
    dp_variants: bool
    free_text_motifs: float
    header_window: str  # "exact" | "last_day" (DATEDEBUT = DATEFIN = J−1) | "extract_day" (both = J)
    file_naming: str  # "alsace" (RPU_<FINESS>_<yymmdd>.xml) | "idf" (O<FINESS>_<ORDRE>_<timestamp>.xml)


@dataclass(frozen=True, slots=True)
class SyntheticEstablishment:
    finess: str
    file_finess: str  # the FINESS in file names; sometimes the legal entity's, not the one inside
    departement: str
    annual_passages: int
    profile: SoftwareProfile


@dataclass(frozen=True, slots=True)
class SyntheticRegion:
    seed: int
    establishments: tuple[SyntheticEstablishment, ...]
    invalid_rate: float


@dataclass(frozen=True, slots=True)
class SyntheticRecord:
    """A generated passage; `defect` names what makes it invalid (see `synthetic_tables.DEFECT`), if anything."""

    passage: Passage
    defect: str | None = None


def synthetic_region(
    seed: int, establishments: int, departements: tuple[str, ...] = ("67", "68"), invalid_rate: float = 0.01
) -> SyntheticRegion:
    rng = random.Random(f"region/{seed}")
    built = []
    for _ in range(establishments):
        departement = rng.choice(departements)
        finess = random_finess(rng, departement)
        file_finess = random_finess(rng, departement) if rng.random() < 0.1 else finess
        # Lognormal sizes: a median ED of 25,000 passages a year, an average near 30,000.
        annual = int(min(120_000, max(4_000, rng.lognormvariate(math.log(25_000), 0.6))))
        built.append(
            SyntheticEstablishment(finess, file_finess, departement, annual, _profile(rng, departement))
        )
    return SyntheticRegion(seed, tuple(built), invalid_rate)


def _profile(rng: random.Random, departement: str) -> SoftwareProfile:
    encoding, declared = _ENCODINGS.pick(rng)
    layout = OscourLayout(
        encoding=encoding,
        declare_encoding=declared,
        crlf=rng.random() < 0.4,
        passages_per_patient=rng.random() < 0.2,
        seconds=rng.random() < 0.3,
    )
    return SoftwareProfile(
        layout=layout,
        shuffle_items=rng.random() < 0.2,
        extras=rng.random() < 0.3,
        dp_variants=rng.random() < 0.4,
        free_text_motifs=0.1 if rng.random() < 0.2 else 0.0,
        header_window=_HEADER_WINDOWS.pick(rng),
        file_naming="alsace" if departement in ("67", "68") else "idf",
    )


def day_rng(region: SyntheticRegion, establishment: SyntheticEstablishment, day: date) -> random.Random:
    # String seeds go through SHA-512: stable across runs and interpreters, unlike hash().
    return random.Random(f"{region.seed}/{establishment.finess}/{day.isoformat()}")


def day_records(
    region: SyntheticRegion, establishment: SyntheticEstablishment, day: date
) -> list[SyntheticRecord]:
    """The passages of one establishment on one day, ordered by ENTREE; the same whichever file asks."""
    rng = day_rng(region, establishment, day)
    mean = establishment.annual_passages / 365 * WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1]
    count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
    records = [_record(rng, region, establishment, day) for _ in range(count)]
    records.sort(key=lambda record: record.passage.entree)
    return records


def _record(
    rng: random.Random, region: SyntheticRegion, est: SyntheticEstablishment, day: date
) -> SyntheticRecord:
    profile = est.profile
    seconds = profile.layout.seconds
    entree = datetime(day.year, day.month, day.day, HOUR_WEIGHT.pick(rng), rng.randrange(60))
    if seconds:
        entree = entree.replace(second=rng.randrange(60))
    low, high = AGE_BAND.pick(rng)
    naissance = entree.date() - timedelta(days=rng.randrange(low * 365, high * 365 + 1))
    cp, commune = _place(rng, est.departement)
    mode_entree = MODE_ENTREE.pick(rng)
    provenance = PROVENANCE_HOME.pick(rng) if mode_entree == "8" else PROVENANCE_HOSPITAL.pick(rng)
    transport = TRANSPORT.pick(rng)
    motif, diagnoses = CLINICAL.pick(rng)
    if rng.random() < profile.free_text_motifs:
        motif = rng.choice(FREE_TEXT_MOTIFS)
    dp: str | None = rng.choice(diagnoses) if rng.random() < 0.92 else None
    gravite = GRAVITE.pick(rng)
    hospitalised = rng.random() < HOSPITALISATION_BY_GRAVITE.get(gravite or "2", 0.15) + (
        0.1 if low >= 75 else 0
    )
    if gravite == "D":
        mode_sortie, destination, orient = "9", None, None
    elif hospitalised:
        mode_sortie = "6" if rng.random() < 0.9 else "7"
        orient = ORIENT_HOSPITAL.pick(rng)
        destination = "4" if orient in ("HDT", "HO") else "1"
    else:
        mode_sortie, destination, orient = "8", DESTINATION_HOME.pick(rng), ORIENT_HOME.pick(rng)
    if orient in ("PSA", "FUGUE", "REO"):
        dp = None
    median_minutes = 300 if hospitalised else (60 if orient in ("PSA", "FUGUE") else 170)
    minutes = min(71 * 60, max(5, rng.lognormvariate(math.log(median_minutes), 0.7)))
    sortie = entree + timedelta(minutes=int(minutes), seconds=rng.randrange(60) if seconds else 0)
    passage = Passage(
        entree=entree,
        cp=cp,
        commune=commune,
        naissance=naissance if rng.random() < 0.98 else None,
        sexe=SEXE.pick(rng),
        mode_entree=mode_entree,
        provenance=provenance,
        transport=transport,
        transport_pec=TRANSPORT_PEC.get(transport, "AUCUN") if transport else None,
        motif=motif,
        gravite=gravite,
        dp=_spell(rng, dp) if dp and profile.dp_variants else dp,
        da=tuple(rng.sample(DA, rng.choice((0, 0, 0, 1, 1, 2)))),
        actes=tuple(rng.sample(ACTES, rng.choice((0, 0, 1, 1, 2, 3)))),
        sortie=sortie if rng.random() < 0.97 else None,
        mode_sortie=mode_sortie if rng.random() < 0.98 else None,
        destination=destination,
        orient=orient,
        extras=_extras(rng, entree, orient) if profile.extras else (),
    )
    if rng.random() < region.invalid_rate:
        return _with_defect(passage, DEFECT.pick(rng))
    return SyntheticRecord(passage)


def _place(rng: random.Random, departement: str) -> tuple[str, str | None]:
    draw = rng.random()
    if draw < 0.03:
        return rng.choice(UNKNOWN_PLACES)
    if draw < 0.04:
        return f"{departement}999", None
    places = PLACES.get(departement) or PLACES["67"]
    return rng.choice(places)


def _spell(rng: random.Random, code: str) -> str:
    """A spelling an establishment might use for this canonical code (normalisation must undo it)."""
    style = rng.randrange(4)
    if style == 0 and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    if style == 1 and len(code) >= 4:
        return code.ljust(6, "0")
    if style == 2:
        return code.lower()
    return code


def _extras(rng: random.Random, entree: datetime, orient: str | None) -> tuple[tuple[str, str], ...]:
    hmed = format_datetime(entree + timedelta(minutes=rng.randrange(5, 120)))
    extras = [(EXTRA_ELEMENTS[0], hmed), (EXTRA_ELEMENTS[1], rng.choice(("", "AVP", "chute", "sport")))]
    if orient == "UHCD":
        values = (format_datetime(entree + timedelta(hours=3)), "8", "", "")
        extras.extend(zip(UHCD_EXTRAS, values, strict=True))
    return tuple(extras)


def _with_defect(passage: Passage, defect: str) -> SyntheticRecord:
    # ENTREE defects are applied when rendering (a Passage always has an ENTREE); the others change the passage.
    if defect == "bad_mode_entree":
        passage = replace(passage, mode_entree="0")
    elif defect == "bad_gravite":
        passage = replace(passage, gravite="6")
    elif defect == "bad_orient":
        passage = replace(passage, orient="DOMICILE")
    elif defect == "too_old":
        passage = replace(passage, naissance=date(1880, 5, 17))
    elif defect == "sortie_before_entree":
        passage = replace(passage, sortie=passage.entree - timedelta(hours=2))
    elif defect == "bad_cp":
        passage = replace(passage, cp="6700")
    return SyntheticRecord(passage, defect)


def with_annual_total(region: SyntheticRegion, total: int) -> SyntheticRegion:
    """The same region with each establishment's yearly volume scaled so that the region's sum is about `total`
    (sizes keep their proportions; a large region's EDs are simply busier)."""
    current = sum(e.annual_passages for e in region.establishments)
    scaled = tuple(
        replace(e, annual_passages=max(1, round(e.annual_passages * total / current)))
        for e in region.establishments
    )
    return replace(region, establishments=scaled)
