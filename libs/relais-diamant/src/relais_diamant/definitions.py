"""One declarative definition per DIAMANT source: which labels its header must carry, how each cell is typed, and
which target table each row feeds (key columns, ET or EJ level, annual or monthly block).

The labels are the exact French labels of the real files (shared/specs/diamant.md §4), spaces and typographic
apostrophes included: the synthetic file generator writes the same ones. A header is matched after normalising
Unicode (NFC), runs of spaces and apostrophes (’ → '), so a re-typed label still meets its definition; an exact label
always does.

A source may have several header *generations* (MEN_PMSI_MENCUMU changed its labels in 2024 and added PSY and DMS
columns in 2025): the reader picks the richest generation whose labels are all present and says which one it saw.

The five medico-social sources are defined in `definitions_medico_social` and registered here; a source without a
definition is refused with a reason by the transformer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from relais_diamant.sources import DiamantSource


class Kind(StrEnum):
    """How a cell is read. Empty cells are null for every kind except TEXT_KEY (empty string, part of a key)."""

    FINESS = "finess"  # kept as text: leading zeros, 2A/2B
    YEAR = "year"
    MONTH = "month"  # 1..12
    FLOAT = "float"  # 0.9977, .1197, 2.112E-2, -12.5
    INTEGER = "integer"  # 12 (or 12.0: an integral decimal)
    TEXT = "text"
    TEXT_KEY = "text_key"  # text that is part of a primary key: empty stays '' (a key column cannot be null)
    DATE = "date"  # dd/mm/YYYY (CPOM dates)


class Level(StrEnum):
    """Which FINESS referential table a block's rows must be known in."""

    ET = "etablissement_territorial"
    EJ = "entite_juridique"


class Period(StrEnum):
    """Annual blocks keep years N−5..N−1; monthly blocks N−4..N (N = the reference year)."""

    ANNUAL = "annuel"
    MONTHLY = "mensuel"


class Scope(StrEnum):
    """Which rows of a file a block takes. QUO_SAN_FINANCE mixes EJ-level rows (empty `Finess ET`) and ET-level rows;
    they are separated by scope *before* any deduplication (each block deduplicates on its own key)."""

    ALL = "toutes"
    ET_ROWS = "lignes ET"  # `Finess ET` filled
    EJ_ROWS = "lignes EJ"  # `Finess ET` empty


@dataclass(frozen=True, slots=True)
class Field:
    """A header label, the name the definitions use for it, and how its cells are read.

    `aliases` are other spellings seen for the same column; an optional field is read when present and ignored when
    absent (a missing required field refuses the whole file)."""

    label: str
    name: str
    kind: Kind = Kind.FLOAT
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Generation:
    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def required_labels(self) -> list[str]:
        return [f.label for f in self.fields if f.required]


@dataclass(frozen=True, slots=True)
class Block:
    """Rows for one target table. `keys` and `values` map field names to the table's columns.

    `finess` names the field checked against the referential table of `level`; `also_known` names further FINESS
    fields that must be known when filled (a second foreign key), each with its level."""

    table: str
    level: Level
    finess: str
    keys: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, str], ...]
    scope: Scope = Scope.ALL
    also_known: tuple[tuple[str, Level], ...] = ()

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(column for _, column in self.keys)


@dataclass(frozen=True, slots=True)
class SourceDefinition:
    source: DiamantSource
    period: Period
    year_field: str
    generations: tuple[Generation, ...]
    blocks: tuple[Block, ...]
    month_field: str | None = None
    ej_field: str | None = None  # `Finess EJ` of an ET row: breaks ties between duplicates (see rules)
    et_field: str | None = None  # QUO_SAN_FINANCE: empty = EJ-level row

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(block.table for block in self.blocks))


# --- shared fields -------------------------------------------------------------------------------------------------
ET = "numero_finess_etablissement_territorial"
EJ = "numero_finess_entite_juridique"

FINESS = Field("Finess", "finess", Kind.FINESS)
FINESS_EJ_OPTIONAL = Field("Finess EJ", "finess_ej", Kind.FINESS, required=False)
ANNEE = Field("Année", "annee", Kind.YEAR)
MOIS = Field("Mois", "mois", Kind.MONTH)

ET_YEAR_KEY = (("annee", "annee"), ("finess", ET))


def _values(fields: tuple[Field, ...], skip: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """Value fields whose name is their target column."""
    return tuple((f.name, f.name) for f in fields if f.name not in skip and f.kind not in (Kind.FINESS,))


# --- MEN_PMSI_ANNUEL → activite_sanitaire --------------------------------------------------------------------------
_PMSI_ANNUEL_VALUES = (
    Field("Nombre de séjours HTP/AMBU Médecine", "nombre_sejours_partiels_medecine"),
    Field("Nombre de séjours HTP/AMBU Obstétrique", "nombre_sejours_partiels_obstetrique"),
    Field("Nombre de séjours HTP/AMBU Chirurgie", "nombre_sejours_partiels_chirurgie"),
    Field("Nombre de séjours HC Médecine", "nombre_sejours_complets_medecine"),
    Field("Nombre de séjours HC Chirurgie", "nombre_sejours_complets_chirurgie"),
    Field("Nombre de séjours HC Obstétrique", "nombre_sejours_complets_obstetrique"),
    Field("Nombre total de séjours HAD", "nombre_sejours_had"),
    Field("Nombre de journées hospit complète SSR", "nombre_journees_completes_ssr"),
    Field("Nombre de journées HTP SSR", "nombre_journees_partiels_ssr"),
    Field("Nb journées hospit complète PSY", "nombre_journees_complete_psy"),
    Field("Nb journées HTP PSY", "nombre_journees_partielles_psy"),
    Field("DMS MCO Médecine", "duree_moyenne_sejour_medecine"),
    Field("DMS MCO Chirurgie", "duree_moyenne_sejour_chirurgie"),
    Field("DMS MCO Obstétrique", "duree_moyenne_sejour_obstetrique"),
)

MEN_PMSI_ANNUEL = SourceDefinition(
    source=DiamantSource.MEN_PMSI_ANNUEL,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, *_PMSI_ANNUEL_VALUES)),),
    blocks=(Block("activite_sanitaire", Level.ET, "finess", ET_YEAR_KEY, _values(_PMSI_ANNUEL_VALUES)),),
)

# --- ANN_RPU → activite_sanitaire ----------------------------------------------------------------------------------
_RPU_VALUES = (Field("Nombre de passages aux urgences", "nombre_passages_urgences"),)

ANN_RPU = SourceDefinition(
    source=DiamantSource.ANN_RPU,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, *_RPU_VALUES)),),
    blocks=(Block("activite_sanitaire", Level.ET, "finess", ET_YEAR_KEY, _values(_RPU_VALUES)),),
)

# --- ANN_SAE → activite_sanitaire (USLD days) and capacite_autorisation_sanitaire (integers) -----------------------
_SAE_ACTIVITE = (Field("Nombre journées USLD", "nombre_journees_usld"),)
_SAE_CAPACITES = (
    Field("Nombre de places de chirurgie", "nombre_places_chirurgie", Kind.INTEGER),
    Field("Nombre de places d'obstétrique", "nombre_places_obstetrique", Kind.INTEGER),
    Field("Nombre de places de médecine", "nombre_places_medecine", Kind.INTEGER),
    Field("Nombre de places de SSR", "nombre_places_ssr", Kind.INTEGER),
    Field("Nombre de lits de chirurgie", "nombre_lits_chirurgie", Kind.INTEGER),
    Field("Nombre de lits d'obstétrique", "nombre_lits_obstetrique", Kind.INTEGER),
    Field("Nombre de lits de médecine", "nombre_lits_medecine", Kind.INTEGER),
    Field("Nombre de lits de SSR", "nombre_lits_ssr", Kind.INTEGER),
    Field("Nombre de lits USLD", "nombre_lits_usld", Kind.INTEGER),
    Field("Nb de lits et places PSY PeC temps complet", "nombre_lits_ou_places_psy_complet", Kind.INTEGER),
    Field("Nb de places PSY PeC temps partiel hors ambu", "nombre_places_psy_partiel", Kind.INTEGER),
)

ANN_SAE = SourceDefinition(
    source=DiamantSource.ANN_SAE,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, *_SAE_ACTIVITE, *_SAE_CAPACITES)),),
    blocks=(
        Block("activite_sanitaire", Level.ET, "finess", ET_YEAR_KEY, _values(_SAE_ACTIVITE)),
        Block("capacite_autorisation_sanitaire", Level.ET, "finess", ET_YEAR_KEY, _values(_SAE_CAPACITES)),
    ),
)

# --- MEN_PMSI_MENCUMU → activite_sanitaire_mensuel (three header generations) -------------------------------------
_MENCUMU_2024 = (
    Field("Nombre de séjours mensuels Médecine", "nombre_sejours_complets_medecine"),
    Field("Nombre de séjours mensuels Chirurgie", "nombre_sejours_complets_chirurgie"),
    Field("Nombre de séjours mensuels Obstétrique", "nombre_sejours_complets_obstetrique"),
    Field("Nombre de séjours mensuels HTP/AMBU Médecine", "nombre_sejours_partiels_medecine"),
    # TWO spaces before HTP, as in the real files (a single space is accepted too: spaces are normalised).
    Field("Nombre de séjours mensuels  HTP/AMBU Chirurgie", "nombre_sejours_partiels_chirurgie"),
    Field("Nombre de séjours mensuels HTP/AMBU Obstétrique", "nombre_sejours_partiels_obstetrique"),
    Field("Nombre de journées mensuelles hospit complète SSR", "nombre_journees_completes_ssr"),
    Field("Nombre de journées mensuelles HTP SSR", "nombre_journees_partiels_ssr"),
)
_MENCUMU_2025_ADDED = (
    Field("Nombre total de journées cumulés mensuels hospit complète PSY", "nombre_journees_completes_psy"),
    Field("Nombre total de journées cumulés mensuels HTP PSY", "nombre_journees_partielles_psy"),
    Field("DMS mensuel MCO Médecine", "duree_moyenne_sejour_medecine"),
    Field("DMS mensuel MCO Chirurgie", "duree_moyenne_sejour_chirurgie"),
    Field("DMS mensuel MCO Obstétrique", "duree_moyenne_sejour_obstetrique"),
)
# Before 2024 the labels said "mensuels cumulés" (as read by the reference implementation's checks); the SSR labels
# are accepted in both word orders.
_MENCUMU_BEFORE_2024 = (
    Field("Nombre de séjours mensuels cumulés Médecine", "nombre_sejours_complets_medecine"),
    Field("Nombre de séjours mensuels cumulés Chirurgie", "nombre_sejours_complets_chirurgie"),
    Field("Nombre de séjours mensuels cumulés Obstétrique", "nombre_sejours_complets_obstetrique"),
    Field("Nombre de séjours mensuels cumulés HTP/AMBU Médecine", "nombre_sejours_partiels_medecine"),
    Field("Nombre de séjours mensuels cumulés HTP/AMBU Chirurgie", "nombre_sejours_partiels_chirurgie"),
    Field("Nombre de séjours mensuels cumulés HTP/AMBU Obstétrique", "nombre_sejours_partiels_obstetrique"),
    Field(
        "Nombre de journées cumulées mensuelles hospit complète SSR",
        "nombre_journees_completes_ssr",
        aliases=("Nombre de journées mensuelles cumulées hospit complète SSR",),
    ),
    Field(
        "Nombre de journées cumulées mensuelles HTP SSR",
        "nombre_journees_partiels_ssr",
        aliases=("Nombre de journées mensuelles cumulées HTP SSR",),
    ),
)
_MENCUMU_KEYS = (FINESS, FINESS_EJ_OPTIONAL, ANNEE, MOIS)
_MENCUMU_ALL_VALUES = _MENCUMU_2024 + _MENCUMU_2025_ADDED

MENCUMU_GENERATION_BEFORE_2024 = "avant 2024 (libellés « mensuels cumulés »)"
MENCUMU_GENERATION_2024 = "2024 (libellés « mensuels », sans PSY ni DMS)"
MENCUMU_GENERATION_2025 = "2025 (avec PSY et DMS)"

MEN_PMSI_MENCUMU = SourceDefinition(
    source=DiamantSource.MEN_PMSI_MENCUMU,
    period=Period.MONTHLY,
    year_field="annee",
    month_field="mois",
    ej_field="finess_ej",
    generations=(
        Generation(MENCUMU_GENERATION_BEFORE_2024, (*_MENCUMU_KEYS, *_MENCUMU_BEFORE_2024)),
        Generation(MENCUMU_GENERATION_2024, (*_MENCUMU_KEYS, *_MENCUMU_2024)),
        Generation(MENCUMU_GENERATION_2025, (*_MENCUMU_KEYS, *_MENCUMU_ALL_VALUES)),
    ),
    blocks=(
        Block(
            "activite_sanitaire_mensuel",
            Level.ET,
            "finess",
            (("annee", "annee"), ("mois", "mois"), ("finess", ET)),
            _values(_MENCUMU_ALL_VALUES),
        ),
    ),
)

# --- QUO_SAN_FINANCE → budget and HR, EJ-level rows and ET-level rows ---------------------------------------------
_TITRES = ("i", "ii", "iii", "iv")
_ROMAN = {"i": "I", "ii": "II", "iii": "III", "iv": "IV"}
_BUDGET = (
    *(Field(f"Dépenses Titre {_ROMAN[t]} Budget global", f"depenses_titre_{t}_global") for t in _TITRES),
    *(Field(f"Recettes Titre {_ROMAN[t]} Budget global", f"recettes_titre_{t}_global") for t in _TITRES),
    *(Field(f"Dépenses Titre {_ROMAN[t]} Budget H", f"depenses_titre_{t}_h") for t in _TITRES),
    *(Field(f"Recettes Titre {_ROMAN[t]} Budget H", f"recettes_titre_{t}_h") for t in _TITRES[:3]),
    Field("SAN Résultat net comptable", "resultat_net_comptable_san"),
    Field("SAN Taux de CAF nette", "taux_de_caf_nette_san"),
    Field("Ratio de dépendance financière", "ratio_dependance_financiere"),
    Field("FRNG", "fonds_de_roulement"),
    Field("BFR", "besoin_fonds_de_roulement"),
    Field("Trésorerie", "tresorerie"),
)
_RH = (
    Field("Nombre d'ETP PM", "nombre_etp_pm"),
    Field("Nombre d'ETP PNM", "nombre_etp_pnm"),
    Field("Dépenses d'intérim PM", "depenses_interim_pm"),
    Field("Jours d'absentéisme PM", "jours_absenteisme_pm"),
    Field("Jours d'absentéisme PNM", "jours_absenteisme_pnm"),
)


def _ej_budget_column(name: str) -> str:
    """The reference schema names the EJ budget columns `…_budget_global` / `…_budget_h` (ET: `…_global` / `…_h`)."""
    for suffix in ("_global", "_h"):
        if name.startswith(("depenses_titre_", "recettes_titre_")) and name.endswith(suffix):
            return name[: -len(suffix)] + "_budget" + suffix
    return name


QUO_SAN_FINANCE = SourceDefinition(
    source=DiamantSource.QUO_SAN_FINANCE,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    et_field="finess_et",
    generations=(
        Generation(
            "unique",
            (
                Field("Finess EJ", "finess_ej", Kind.FINESS),
                Field("Finess ET", "finess_et", Kind.FINESS),
                ANNEE,
                *_BUDGET,
                *_RH,
            ),
        ),
    ),
    blocks=(
        Block(
            "budget_et_finances_sanitaire",
            Level.ET,
            "finess_et",
            (("annee", "annee"), ("finess_et", ET)),
            _values(_BUDGET),
            scope=Scope.ET_ROWS,
        ),
        Block(
            "ressources_humaines_sanitaire",
            Level.ET,
            "finess_et",
            (("annee", "annee"), ("finess_et", ET)),
            _values(_RH),
            scope=Scope.ET_ROWS,
        ),
        Block(
            "budget_et_finances_entite_juridique",
            Level.EJ,
            "finess_ej",
            (("annee", "annee"), ("finess_ej", EJ)),
            tuple((f.name, _ej_budget_column(f.name)) for f in _BUDGET),
            scope=Scope.EJ_ROWS,
        ),
        Block(
            "ressources_humaines_entite_juridique",
            Level.EJ,
            "finess_ej",
            (("annee", "annee"), ("finess_ej", EJ)),
            _values(_RH),
            scope=Scope.EJ_ROWS,
        ),
    ),
)

# --- MEN_HAPI → allocations (resource allocations notified; the reference implementation never imported them) ---
_HAPI = (
    Field("Finess EJ", "finess_ej", Kind.FINESS),
    Field("Finess", "finess", Kind.FINESS),
    Field("Année Campagne HAPI", "annee", Kind.YEAR),
    Field("Mois Année", "mois_annee", Kind.TEXT_KEY),
    Field("Enveloppe", "enveloppe", Kind.TEXT_KEY),
    Field("Sous Enveloppe", "sous_enveloppe", Kind.TEXT_KEY),
    Field("Mode de Délégation", "mode_delegation", Kind.TEXT_KEY),
    Field("HAPI - Montant Notifié", "montant_notifie", Kind.FLOAT),
)

# An allocation is notified to an ET (`Finess` filled) or to the EJ itself (`Finess` empty): its beneficiary is the
# ET when there is one, else the EJ. The beneficiary is a derived key column (see rules.beneficiaire).
BENEFICIAIRE = "beneficiaire"

MEN_HAPI = SourceDefinition(
    source=DiamantSource.MEN_HAPI,
    period=Period.MONTHLY,
    year_field="annee",
    generations=(Generation("unique", _HAPI),),
    blocks=(
        Block(
            "allocations",
            Level.EJ,
            "finess_ej",
            (
                ("annee", "annee"),
                (BENEFICIAIRE, BENEFICIAIRE),
                ("mois_annee", "mois_annee"),
                ("enveloppe", "enveloppe"),
                ("sous_enveloppe", "sous_enveloppe"),
                ("mode_delegation", "mode_delegation"),
            ),
            (("finess_ej", EJ), ("finess", ET), ("montant_notifie", "montant_notifie")),
            also_known=(("finess", Level.ET),),
        ),
    ),
)

DEFINITIONS: dict[DiamantSource, SourceDefinition] = {
    d.source: d for d in (MEN_PMSI_ANNUEL, ANN_RPU, ANN_SAE, MEN_PMSI_MENCUMU, QUO_SAN_FINANCE, MEN_HAPI)
}


def _registry() -> dict[DiamantSource, SourceDefinition]:
    """Every definition, the medico-social ones included. They live in their own module, which builds on the shared
    fields above, so they are imported on first use (importing them here, at module level, would be circular)."""
    if DiamantSource.ANN_MS_TDP_ET not in DEFINITIONS:
        from relais_diamant.definitions_medico_social import MEDICO_SOCIAL

        DEFINITIONS.update({d.source: d for d in MEDICO_SOCIAL})
    return DEFINITIONS


def definition(source: str | DiamantSource) -> SourceDefinition | None:
    """The definition of a source, or None while the source is not handled yet."""
    try:
        return _registry().get(DiamantSource(source))
    except ValueError:
        return None


def labels(source: str | DiamantSource, generation: str | None = None) -> list[str]:
    """The header labels of a source, in definition order (the newest generation unless one is named)."""
    found = definition(source)
    if found is None:
        raise KeyError(f"source DIAMANT sans définition : {source}")
    chosen = (
        found.generations[-1]
        if generation is None
        else next(g for g in found.generations if g.name == generation)
    )
    return [f.label for f in chosen.fields]
