"""The five medico-social DIAMANT sources (shared/specs/diamant.md §4): each loads its rows, normalised and nothing
more, into a source table of its own.

The Helios tables activite_medico_social, budget_et_finances_medico_social, ressources_humaines_medico_social and
cpom combine several of these files (CA against ERRD, ERRD rates per deposit joined through ANN_PER_ERRD_EPRD…), and
files of different sources arrive in any order and may each be re-sent later. So no file computes them alone: the
loader recomputes them from the source tables, for the establishments a file touched, in that file's transaction
(relais_loader.adapters.pg_medico_social, rules in relais_diamant.medico_social). Whatever the arrival order, the
source tables end with the same rows and the derived tables with the same values.

Field names are the Helios column names where a column goes straight to a target table (taux_occupation_externat,
nombre_etp_realises…), and say their origin where a rule still has to choose between them
(taux_occupation_global_errd, resultat_net_comptable_ca_ph…).

`Id Dépôt` is an integer key: a row without one cannot be joined or ordered, and is rejected with a reason.
`Finess EJ` of an ET row only settles duplicates (the row whose EJ is the ET's EJ in the referential wins); it is not
stored, the referential says which EJ an ET belongs to.
"""

from __future__ import annotations

from relais_diamant.definitions import (
    ANNEE,
    ET,
    ET_YEAR_KEY,
    FINESS,
    FINESS_EJ_OPTIONAL,
    Block,
    Field,
    Generation,
    Kind,
    Level,
    Period,
    SourceDefinition,
    _values,
)
from relais_diamant.sources import DiamantSource

EJ = "numero_finess_entite_juridique"
ID_DEPOT = Field("Id Dépôt", "id_depot", Kind.INTEGER)

# Source tables (one per file kind): the loader's medico-social hook reads them.
TDP_TABLE = "diamant_ms_tdp_et"
ERRD_ET_TABLE = "diamant_errd_ej_et"
CA_TABLE = "diamant_ca_ej_et"
ERRD_EJ_TABLE = "diamant_errd_ej"
PER_ERRD_TABLE = "diamant_per_errd_eprd"
SOURCE_TABLES = (TDP_TABLE, ERRD_ET_TABLE, CA_TABLE, ERRD_EJ_TABLE, PER_ERRD_TABLE)

# --- ANN_MS_TDP_ET: the medico-social performance dashboard ---------------------------------------------------------
_TDP = (
    Field(
        "Nombre moyen de journées d'absence des personnes accompagnées sur la période",
        "nombre_moyen_journees_absence_personnes_accompagnees",
    ),
    Field(
        "Durée moyenne de séjour/d'accompagnement", "duree_moyenne_sejour_accompagnement_personnes_sorties"
    ),
    Field("File active des personnes accompagnées sur la période", "file_active_personnes_accompagnees"),
    # Typographic apostrophe (’) in both labels, as in the real files.
    Field(
        "Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)",
        "taux_realisation_activite_esms",
    ),
    Field("Taux de réalisation de l’activité CAMSP et CMPP", "taux_realisation_activite_camsp_cmpp"),
    Field("Nombre de CDD de remplacement", "nombre_cdd_remplacement"),
    Field("Taux d'ETP vacants au 31/12", "taux_etp_vacants"),
    Field("Taux de prestations externes sur les prestations directes", "taux_prestation_externes"),
    Field("Taux de rotation du personnel sur effectifs réels", "taux_rotation_personnel"),
    Field("Taux d'absentéisme pour maladie ordinaire/courte durée", "taux_absenteisme_maladie_courte_duree"),
    Field("Taux d'absentéisme pour maladie moyenne durée", "taux_absenteisme_maladie_moyenne_duree"),
    Field("Taux d'absentéisme pour maladie longue durée", "taux_absenteisme_maladie_longue_duree"),
    Field("Taux d'absentéisme pour maternité/paternité", "taux_absenteisme_maternite_paternite"),
    Field(
        "Taux d'absentéisme pour accident du travail / maladie professionnelle",
        "taux_absenteisme_accident_maladie_professionnelle",
    ),
    Field("Taux d'absentéisme pour congés spéciaux dont sans solde", "taux_absenteisme_conges_speciaux"),
    Field("Taux d'absentéisme (hors formation)", "taux_absenteisme_hors_formation"),
    Field("Date d'entrée en vigueur du CPOM", "date_d_entree_en_vigueur", Kind.DATE),
)

ANN_MS_TDP_ET = SourceDefinition(
    source=DiamantSource.ANN_MS_TDP_ET,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, *_TDP)),),
    blocks=(Block(TDP_TABLE, Level.ET, "finess", ET_YEAR_KEY, _values(_TDP)),),
)

# --- ANN_ERRD_EJ_ET: état réalisé des recettes et dépenses, per ET and deposit ----------------------------------------
_ROMAN = (("i", "I"), ("ii", "II"), ("iii", "III"))
_ERRD_ET = (
    Field("Taux d'occupation des lits autorisés en accueil de jour", "taux_occupation_accueil_de_jour"),
    Field(
        "Taux d'occupation des lits autorisés en hébergement temporaire",
        "taux_occupation_en_hebergement_temporaire",
    ),
    Field(
        "Taux d'occupation des places autorisées en hébergement permanent",
        "taux_occupation_en_hebergement_permanent",
    ),
    Field("Taux d'occupation Externat Autres ESMS", "taux_occupation_externat"),
    Field("Taux d'occupation Semi-internat Autres ESMS", "taux_occupation_semi_internat"),
    Field("Taux d'occupation Internat Autres ESMS", "taux_occupation_internat"),
    Field("Taux d'occupation Autre 1, 2 et 3 Autres ESMS", "taux_occupation_autre"),
    Field("Taux d'occupation global ERRD", "taux_occupation_global_errd"),
    Field("Etat taux d'occupation global ERRD", "etat_taux_occupation_global_errd", Kind.TEXT),
    Field("Taux d'occupation global Autres ESMS", "taux_occupation_global_autres_esms"),
    Field("Etat taux d'occupation global Autres ESMS", "etat_taux_occupation_global_autres_esms", Kind.TEXT),
    Field(
        "655 Quotes-parts de résultat sur opérations faites en commun",
        "contribution_frais_de_siege_groupement",
    ),
    *(Field(f"Dépenses Groupe {roman} ERRD", f"depenses_groupe_{n}") for n, roman in _ROMAN),
    *(Field(f"Recettes Groupe {roman} ERRD", f"recettes_groupe_{n}") for n, roman in _ROMAN),
    Field("MS Résultat net comptable ERRD", "resultat_net_comptable"),
    Field("Nombre ETP total réalisé ERRD", "nombre_etp_realises"),
    Field("Type dépot ERRD", "type_depot", Kind.TEXT, required=False),
)

ANN_ERRD_EJ_ET = SourceDefinition(
    source=DiamantSource.ANN_ERRD_EJ_ET,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, ID_DEPOT, *_ERRD_ET)),),
    blocks=(
        Block(
            ERRD_ET_TABLE,
            Level.ET,
            "finess",
            (*ET_YEAR_KEY, ("id_depot", "id_depot")),
            _values(_ERRD_ET),
        ),
    ),
)

# --- ANN_CA_EJ_ET: compte administratif, per ET -----------------------------------------------------------------------
_CA = (
    Field("Taux d'occupation Séances CA", "taux_occupation_seances"),
    Field("Taux d'occupation Externat CA", "taux_occupation_externat"),
    Field("Taux d'occupation Semi-internat CA", "taux_occupation_semi_internat"),
    Field("Taux d'occupation Internat CA", "taux_occupation_internat"),
    Field("Taux d'occupation Autre 1, 2 et 3 CA", "taux_occupation_autre"),
    Field("Taux d'occupation global CA", "taux_occupation_global_ca"),
    Field("Etat taux d'occupation global CA", "etat_taux_occupation_global_ca", Kind.TEXT),
    Field("MS Résultat net comptable CA PH", "resultat_net_comptable_ca_ph"),
    Field("MS Résultat net comptable CA PA", "resultat_net_comptable_ca_pa"),
    Field("Taux de CAF CA PH", "taux_de_caf"),
    Field("Taux vétusté Construction CA", "taux_de_vetuste_construction"),
    Field("Charges CA PA", "charges"),
    Field("Produits CA PA", "produits"),
    *(Field(f"Recettes Groupe {roman} CA", f"recettes_groupe_{n}") for n, roman in _ROMAN),
    *(Field(f"Dépenses Groupe {roman} CA", f"depenses_groupe_{n}") for n, roman in _ROMAN),
    Field("Nombre ETP total réalisé CA", "nombre_etp_realises"),
)

ANN_CA_EJ_ET = SourceDefinition(
    source=DiamantSource.ANN_CA_EJ_ET,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS, FINESS_EJ_OPTIONAL, ANNEE, *_CA)),),
    blocks=(Block(CA_TABLE, Level.ET, "finess", ET_YEAR_KEY, _values(_CA)),),
)

# --- ANN_ERRD_EJ: the rates of each ERRD deposit (an EJ's) ------------------------------------------------------------
_ERRD_EJ = (
    Field("Taux de CAF ERRD", "taux_de_caf"),
    Field("Taux vétusté Construction ERRD", "taux_de_vetuste_construction"),
    Field("Fonds de roulement net global ERRD", "fonds_de_roulement"),
)
FINESS_EJ = Field("Finess EJ", "finess_ej", Kind.FINESS)

ANN_ERRD_EJ = SourceDefinition(
    source=DiamantSource.ANN_ERRD_EJ,
    period=Period.ANNUAL,
    year_field="annee",
    generations=(Generation("unique", (FINESS_EJ, ID_DEPOT, ANNEE, *_ERRD_EJ)),),
    blocks=(
        Block(
            ERRD_EJ_TABLE,
            Level.EJ,
            "finess_ej",
            (("annee", "annee"), ("id_depot", "id_depot")),
            (("finess_ej", EJ), *_values(_ERRD_EJ)),
        ),
    ),
)

# --- ANN_PER_ERRD_EPRD: which ETs each deposit covers -----------------------------------------------------------------
ANN_PER_ERRD_EPRD = SourceDefinition(
    source=DiamantSource.ANN_PER_ERRD_EPRD,
    period=Period.ANNUAL,
    year_field="annee",
    ej_field="finess_ej",
    generations=(Generation("unique", (FINESS_EJ_OPTIONAL, FINESS, ANNEE, ID_DEPOT)),),
    blocks=(Block(PER_ERRD_TABLE, Level.ET, "finess", (*ET_YEAR_KEY, ("id_depot", "id_depot")), ()),),
)

MEDICO_SOCIAL: tuple[SourceDefinition, ...] = (
    ANN_MS_TDP_ET,
    ANN_ERRD_EJ_ET,
    ANN_CA_EJ_ET,
    ANN_ERRD_EJ,
    ANN_PER_ERRD_EPRD,
)

__all__ = ["ET", "MEDICO_SOCIAL", "SOURCE_TABLES"]
