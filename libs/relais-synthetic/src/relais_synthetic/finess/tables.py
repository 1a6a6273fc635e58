"""Declarative tables behind the synthetic referential: realistic, not authoritative.

Catégorie codes are real FINESS codes; statut juridique codes are the usual ones but the labels are shortened
for readability. Good enough to exercise parsers, never a source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: dict[str, tuple[str, str]] = {  # code: (libellé, short prefix used in raisons sociales)
    "101": ("Centre Hospitalier Régional (C.H.R.)", "CHR"),
    "106": ("Centre hospitalier, ex Hôpital local", "CH"),
    "355": ("Centre Hospitalier (C.H.)", "CH"),
    "292": ("Centre Hospitalier Spécialisé lutte Maladies Mentales", "CHS"),
    "365": ("Centre de Lutte Contre Cancer", "CLCC"),
    "128": ("Etablissement de Soins Chirurgicaux", "CLINIQUE"),
    "109": ("Etablissement de santé privé autorisé en SSR", "CENTRE SSR"),
    "124": ("Centre de Santé", "CDS"),
    "500": ("Etablissement d'hébergement pour personnes âgées dépendantes", "EHPAD"),
    "202": ("Résidences autonomie", "RÉSIDENCE"),
    "354": ("Service de Soins Infirmiers A Domicile (S.S.I.A.D)", "SSIAD"),
    "183": ("Institut Médico-Educatif (I.M.E.)", "IME"),
    "246": ("Etablissement et Service d'Aide par le Travail (E.S.A.T.)", "ESAT"),
    "255": ("Maison d'Accueil Spécialisée (M.A.S.)", "MAS"),
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A kind of EJ: its statut juridique and the catégories of the sites it typically runs."""

    statut_juridique: str
    libelle_statut_juridique: str
    prefix: str
    categories: tuple[str, ...]
    weight: int


PROFILES: tuple[Profile, ...] = (
    Profile(
        "13",
        "Etablissement Public Communal d'Hospitalisation",
        "CENTRE HOSPITALIER",
        ("355", "106", "500"),
        3,
    ),
    Profile(
        "14",
        "Etablissement Public Intercommunal d'Hospitalisation",
        "CH INTERCOMMUNAL",
        ("355", "292", "500"),
        2,
    ),
    Profile("11", "Centre Hospitalier Régional", "CHU", ("101", "355", "500", "124"), 1),
    Profile("62", "Centre de Lutte Contre le Cancer", "CENTRE DE LUTTE CONTRE LE CANCER", ("365",), 1),
    Profile("73", "Société Anonyme (S.A.)", "GROUPE CLINIQUE", ("128", "109"), 2),
    Profile("95", "Société par Actions Simplifiée (S.A.S.)", "SAS SANTÉ", ("128", "500", "109"), 3),
    Profile(
        "60", "Association Loi 1901 non Reconnue d'Utilité Publique", "ASSOCIATION", ("183", "246", "255"), 5
    ),
    Profile("61", "Association Loi 1901 Reconnue d'Utilité Publique", "FONDATION", ("183", "246", "354"), 2),
    Profile("21", "Etablissement Social et Médico-Social Communal", "CCAS", ("500", "202", "354"), 4),
)


@dataclass(frozen=True, slots=True)
class Place:
    """A commune and the FINESS prefix of its territory (mainland, Corsica, overseas)."""

    city: str
    finess_prefix: str
    departement: str
    commune: str
    weight: int


PLACES: tuple[Place, ...] = (
    Place("PARIS", "75", "75", "056", 6),
    Place("LYON", "69", "69", "123", 4),
    Place("MARSEILLE", "13", "13", "055", 4),
    Place("LILLE", "59", "59", "350", 3),
    Place("BORDEAUX", "33", "33", "063", 3),
    Place("STRASBOURG", "67", "67", "482", 2),
    Place("BOURG-EN-BRESSE", "01", "01", "053", 1),
    Place("BESANÇON", "25", "25", "056", 1),
    Place("NÎMES", "30", "30", "189", 1),
    Place("ORLÉANS", "45", "45", "234", 1),
    Place("SAINT-ÉTIENNE", "42", "42", "218", 1),
    Place("BÉZIERS", "34", "34", "032", 1),
    Place("AJACCIO", "2A", "2A", "004", 1),
    Place("BASTIA", "2B", "2B", "033", 1),
    Place("POINTE-À-PITRE", "9701", "971", "120", 1),
    Place("FORT-DE-FRANCE", "9702", "972", "209", 1),
    Place("CAYENNE", "9703", "973", "302", 1),
    Place("SAINT-DENIS", "9704", "974", "411", 1),
    Place("SAINT-PIERRE", "9705", "975", "502", 1),
    Place("MAMOUDZOU", "9805", "976", "611", 1),
    Place("MATA-UTU", "9806", "986", "613", 1),
)

SITE_NAMES: tuple[str, ...] = (
    "LES TILLEULS", "SAINT-JOSEPH", "LE VAL FLEURI", "NOTRE-DAME", "LES ÉRABLES", "LA ROSERAIE",
    "LES CÈDRES", "JEAN MOULIN", "PASTEUR", "L'ÉTOILE", "LES GLYCINES", "SAINTE-MARIE", "LA FORÊT",
)  # fmt: skip
