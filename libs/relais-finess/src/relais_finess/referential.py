"""The FINESS referential: entités juridiques (EJ) and the établissements territoriaux (ET) they run.

Records are the same whichever file they come from (open-data CSV or the ministry's XML flux); a field the
source does not carry is None (the open-data extracts list open structures only, so they never carry a
closing date nor the caduc flag).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class EntiteJuridique:
    """The legal person ("FINESS juridique"); carries the statut juridique."""

    numero: str
    raison_sociale: str
    raison_sociale_longue: str | None = None
    statut_juridique: str | None = None
    libelle_statut_juridique: str | None = None
    departement: str | None = None
    commune: str | None = None
    date_fermeture: date | None = None


@dataclass(frozen=True, slots=True)
class EtablissementTerritorial:
    """A physical site ("FINESS géographique"), always attached to exactly one EJ; carries the catégorie."""

    numero: str
    numero_ej: str
    raison_sociale: str
    categorie: str
    libelle_categorie: str | None = None
    raison_sociale_longue: str | None = None
    departement: str | None = None
    commune: str | None = None
    date_ouverture: date | None = None
    date_fermeture: date | None = None
    caduc: bool = False


@dataclass(frozen=True, slots=True)
class Geolocalisation:
    """Coordinates of an ET from the open-data extract, in the projection named by `source`.

    Coordinates are projected metres (Lambert-93 in mainland, local UTM overseas), never degrees.
    """

    numero: str
    x: float
    y: float
    source: str
    date_maj: date | None


Structure = EntiteJuridique | EtablissementTerritorial


def is_active(structure: Structure, on: date) -> bool:
    """Whether a structure exists and operates on the given day.

    A caduc ET (`indcaduc = O`) never operated: its authorisation lapsed before it opened, so it is never
    active whatever its dates say. `datefermeture` is the first day the structure no longer operates, and an
    ET is active from its `dateouv` on; an unknown date leaves the corresponding bound open.
    """
    if isinstance(structure, EtablissementTerritorial):
        if structure.caduc:
            return False
        if structure.date_ouverture is not None and on < structure.date_ouverture:
            return False
    return structure.date_fermeture is None or on < structure.date_fermeture
