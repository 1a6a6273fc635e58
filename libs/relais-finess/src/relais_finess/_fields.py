"""Turn the named fields of one source record (CSV line or XML element) into a typed record.

Both the open-data CSV and the XML flux use the same FINESS field names (nofinesset, rs, categetab…),
so one builder serves both; a broken rule raises RecordRejected with a message for ARS staff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from relais_finess.number import InvalidFiness, check
from relais_finess.referential import EntiteJuridique, EtablissementTerritorial, Geolocalisation
from relais_finess.report import RecordRejected
from relais_finess.territory import territory_of

Fields = Mapping[str, str | None]

_CATEGORIE = re.compile(r"^[0-9]{3}$")


def text(fields: Fields, name: str) -> str | None:
    """A field's text, None when absent, nil or blank: the sources use all three for "no value"."""
    value = fields.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def finess(fields: Fields, name: str, role: str) -> str:
    number = text(fields, name) or ""
    result = check(number)
    if not result.valid:
        raise RecordRejected(f"numéro FINESS {role} {number!r} invalide ({name}) : {result.reason}")
    return number


def iso_date(fields: Fields, name: str) -> date | None:
    value = text(fields, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordRejected(f"date {value!r} invalide ({name}), format attendu AAAA-MM-JJ") from None


def required(fields: Fields, name: str, what: str) -> str:
    value = text(fields, name)
    if value is None:
        raise RecordRejected(f"{what} absente ({name})")
    return value


def caduc(fields: Fields) -> bool:
    # Only "O" (oui) marks a caduc ET; nil, "N" and absence all mean "not caduc".
    value = text(fields, "indcaduc")
    if value not in (None, "O", "N"):
        raise RecordRejected(f"indicateur de caducité {value!r} invalide (indcaduc), O ou N attendu")
    return value == "O"


def departement(fields: Fields, numero: str) -> str | None:
    # The file's own value wins (it is what the ministry publishes); the number's prefix is the fallback.
    given = text(fields, "departement")
    if given is not None:
        return given
    try:
        return territory_of(numero).code
    except InvalidFiness:
        return None


def etablissement(fields: Fields) -> EtablissementTerritorial:
    numero = finess(fields, "nofinesset", "d'établissement")
    categorie = required(fields, "categetab", "catégorie d'établissement")
    if not _CATEGORIE.match(categorie):
        raise RecordRejected(
            f"catégorie d'établissement {categorie!r} invalide (categetab), 3 chiffres attendus"
        )
    return EtablissementTerritorial(
        numero=numero,
        numero_ej=finess(fields, "nofinessej", "d'entité juridique"),
        raison_sociale=required(fields, "rs", "raison sociale"),
        raison_sociale_longue=text(fields, "rslongue"),
        categorie=categorie,
        libelle_categorie=text(fields, "libcategetab"),
        departement=departement(fields, numero),
        commune=text(fields, "commune"),
        date_ouverture=iso_date(fields, "dateouv"),
        date_fermeture=iso_date(fields, "datefermeture"),
        caduc=caduc(fields),
    )


def entite_juridique(fields: Fields, number_field: str) -> EntiteJuridique:
    numero = finess(fields, number_field, "d'entité juridique")
    return EntiteJuridique(
        numero=numero,
        raison_sociale=required(fields, "rs", "raison sociale"),
        raison_sociale_longue=text(fields, "rslongue"),
        statut_juridique=text(fields, "statutjuridique"),
        libelle_statut_juridique=text(fields, "libstatutjuridique"),
        departement=departement(fields, numero),
        commune=text(fields, "commune"),
        date_fermeture=iso_date(fields, "datefermeture"),
    )


def geolocalisation(fields: Fields) -> Geolocalisation:
    numero = finess(fields, "nofinesset", "d'établissement")
    coordinates = []
    for axis in ("x", "y"):
        value = required(fields, axis, f"coordonnée {axis}")
        try:
            coordinates.append(float(value))
        except ValueError:
            raise RecordRejected(f"coordonnée {axis} {value!r} non numérique") from None
    return Geolocalisation(
        numero=numero,
        x=coordinates[0],
        y=coordinates[1],
        source=text(fields, "source") or "",
        date_maj=iso_date(fields, "datemaj"),
    )
