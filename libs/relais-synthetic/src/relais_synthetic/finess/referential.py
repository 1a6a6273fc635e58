"""A deterministic synthetic FINESS referential, to test parsers and loaders without real data.

Same seed, same referential: every choice goes through one `random.Random`. Numbers are valid FINESS numbers
of the territory the structure sits in, all distinct; some structures are closed and some ETs are caduc,
as in the real flux. Writers to the published file formats are in `relais_synthetic.finess.files`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from relais_finess.referential import EntiteJuridique, EtablissementTerritorial
from relais_synthetic.finess.number import random_finess
from relais_synthetic.finess.tables import CATEGORIES, PLACES, PROFILES, SITE_NAMES, Place, Profile

_FIRST_OPENING = date(1950, 1, 1)


@dataclass(frozen=True, slots=True)
class SyntheticReferential:
    entites_juridiques: tuple[EntiteJuridique, ...]
    etablissements: tuple[EtablissementTerritorial, ...]
    reference_date: date


@dataclass(slots=True)
class _Generator:
    rng: random.Random
    reference_date: date
    closed_share: float
    caduc_share: float
    used: set[str]

    def number(self, place: Place) -> str:
        # Collisions are rare (10⁴ to 10⁷ bodies per territory) but a referential with a duplicate key
        # would break the very loaders it is meant to test.
        while True:
            candidate = random_finess(self.rng, place.finess_prefix)
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange(max((end - start).days, 1)))

    def closing(self, opened: date) -> date | None:
        if self.rng.random() >= self.closed_share:
            return None
        return self.day_between(opened + timedelta(days=365), self.reference_date)

    def entite(self, profile: Profile, place: Place) -> EntiteJuridique:
        return EntiteJuridique(
            numero=self.number(place),
            raison_sociale=f"{profile.prefix} {place.city}"[:38],
            raison_sociale_longue=f"{profile.prefix} DE {place.city}",
            statut_juridique=profile.statut_juridique,
            libelle_statut_juridique=profile.libelle_statut_juridique,
            departement=place.departement,
            commune=place.commune,
            date_fermeture=self.closing(_FIRST_OPENING),
        )

    def etablissement(self, ej: EntiteJuridique, profile: Profile, place: Place) -> EtablissementTerritorial:
        categorie = self.rng.choice(profile.categories)
        libelle, short = CATEGORIES[categorie]
        site = self.rng.choice(SITE_NAMES)
        opened = self.day_between(_FIRST_OPENING, self.reference_date - timedelta(days=400))
        closed = self.closing(opened)
        if ej.date_fermeture is not None:
            # An EJ's sites cannot outlive it.
            closed = min(closed or ej.date_fermeture, ej.date_fermeture)
            opened = min(opened, closed - timedelta(days=1))
        caduc = closed is None and self.rng.random() < self.caduc_share
        name = f"{short} {site}"
        return EtablissementTerritorial(
            numero=self.number(place),
            numero_ej=ej.numero,
            # The ministry flags caduc records in the name too; mimic it so samples read like the real flux.
            raison_sociale=f"[Caduque] {name}" if caduc else name,
            raison_sociale_longue=f"{libelle.upper()} {site} {place.city}",
            categorie=categorie,
            libelle_categorie=libelle,
            departement=place.departement,
            commune=place.commune,
            date_ouverture=opened,
            date_fermeture=closed,
            caduc=caduc,
        )


def generate_referential(
    seed: int,
    entites: int,
    max_etablissements_par_ej: int = 5,
    *,
    closed_share: float = 0.05,
    caduc_share: float = 0.02,
    reference_date: date = date(2024, 12, 31),
) -> SyntheticReferential:
    """`entites` EJs, each running 1..`max_etablissements_par_ej` ETs in its own territory.

    About 15,000 EJs with the default maximum of 5 give the ~45,000 ETs of the real referential.
    """
    if entites < 0 or max_etablissements_par_ej < 1:
        raise ValueError("entites >= 0 and max_etablissements_par_ej >= 1 expected")
    rng = random.Random(seed)
    generator = _Generator(rng, reference_date, closed_share, caduc_share, set())
    profile_weights = [profile.weight for profile in PROFILES]
    place_weights = [place.weight for place in PLACES]
    ejs: list[EntiteJuridique] = []
    ets: list[EtablissementTerritorial] = []
    for _ in range(entites):
        profile = rng.choices(PROFILES, profile_weights)[0]
        place = rng.choices(PLACES, place_weights)[0]
        ej = generator.entite(profile, place)
        ejs.append(ej)
        for _ in range(rng.randint(1, max_etablissements_par_ej)):
            ets.append(generator.etablissement(ej, profile, place))
    return SyntheticReferential(tuple(ejs), tuple(ets), reference_date)
