-- DIAMANT, health sector (sanitaire): MEN_PMSI_ANNUEL, ANN_RPU, ANN_SAE, MEN_PMSI_MENCUMU, QUO_SAN_FINANCE, MEN_HAPI.
-- Table names and keys are the Helios reference schema's, so its front end could read them (shared/specs/diamant.md
-- §6). Column names are the spec's (§4); where Helios spelled one with an accent (nombre_journées_partielles_psy,
-- nombre_lits_médecine…) the unaccented spelling of the spec is used, as Helios itself does in its later tables.
-- FINESS columns are varchar(9) with foreign keys to the referential (no cascade: indicators never vanish with a
-- referential row). Several sources feed one table (activite_sanitaire: MEN_PMSI_ANNUEL, ANN_RPU, ANN_SAE): each file
-- upserts only its own columns.

CREATE TABLE activite_sanitaire (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    -- MEN_PMSI_ANNUEL
    nombre_sejours_partiels_medecine     double precision,
    nombre_sejours_partiels_obstetrique  double precision,
    nombre_sejours_partiels_chirurgie    double precision,
    nombre_sejours_complets_medecine     double precision,
    nombre_sejours_complets_obstetrique  double precision,
    nombre_sejours_complets_chirurgie    double precision,
    nombre_sejours_had                   double precision,
    nombre_journees_completes_ssr        double precision,
    nombre_journees_partiels_ssr         double precision,
    nombre_journees_complete_psy         double precision,
    nombre_journees_partielles_psy       double precision,
    duree_moyenne_sejour_medecine        double precision,
    duree_moyenne_sejour_chirurgie       double precision,
    duree_moyenne_sejour_obstetrique     double precision,
    -- ANN_RPU
    nombre_passages_urgences             double precision,
    -- ANN_SAE
    nombre_journees_usld                 double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX activite_sanitaire_par_etablissement ON activite_sanitaire (numero_finess_etablissement_territorial);

-- MEN_PMSI_MENCUMU (PSY and DMS columns exist in files from 2025 on; older files leave them as they are).
CREATE TABLE activite_sanitaire_mensuel (
    annee                                    integer     NOT NULL,
    mois                                     integer     NOT NULL CHECK (mois BETWEEN 1 AND 12),
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    nombre_sejours_partiels_medecine     double precision,
    nombre_sejours_partiels_obstetrique  double precision,
    nombre_sejours_partiels_chirurgie    double precision,
    nombre_sejours_complets_medecine     double precision,
    nombre_sejours_complets_obstetrique  double precision,
    nombre_sejours_complets_chirurgie    double precision,
    nombre_journees_completes_ssr        double precision,
    nombre_journees_partiels_ssr         double precision,
    nombre_journees_completes_psy        double precision,
    nombre_journees_partielles_psy       double precision,
    duree_moyenne_sejour_medecine        double precision,
    duree_moyenne_sejour_chirurgie       double precision,
    duree_moyenne_sejour_obstetrique     double precision,
    PRIMARY KEY (annee, mois, numero_finess_etablissement_territorial)
);
CREATE INDEX activite_sanitaire_mensuel_par_etablissement
    ON activite_sanitaire_mensuel (numero_finess_etablissement_territorial);

-- ANN_SAE capacities (integers, as in Helios).
CREATE TABLE capacite_autorisation_sanitaire (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    nombre_places_chirurgie            integer,
    nombre_places_obstetrique          integer,
    nombre_places_medecine             integer,
    nombre_places_ssr                  integer,
    nombre_lits_chirurgie              integer,
    nombre_lits_obstetrique            integer,
    nombre_lits_medecine               integer,
    nombre_lits_ssr                    integer,
    nombre_lits_usld                   integer,
    nombre_lits_ou_places_psy_complet  integer,
    nombre_places_psy_partiel          integer,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX capacite_autorisation_sanitaire_par_etablissement
    ON capacite_autorisation_sanitaire (numero_finess_etablissement_territorial);

-- QUO_SAN_FINANCE, ET-level rows (`Finess ET` filled).
CREATE TABLE budget_et_finances_sanitaire (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    depenses_titre_i_global      double precision,
    depenses_titre_ii_global     double precision,
    depenses_titre_iii_global    double precision,
    depenses_titre_iv_global     double precision,
    recettes_titre_i_global      double precision,
    recettes_titre_ii_global     double precision,
    recettes_titre_iii_global    double precision,
    recettes_titre_iv_global     double precision,
    depenses_titre_i_h           double precision,
    depenses_titre_ii_h          double precision,
    depenses_titre_iii_h         double precision,
    depenses_titre_iv_h          double precision,
    recettes_titre_i_h           double precision,
    recettes_titre_ii_h          double precision,
    recettes_titre_iii_h         double precision,
    resultat_net_comptable_san   double precision,
    taux_de_caf_nette_san        double precision,
    ratio_dependance_financiere  double precision,
    fonds_de_roulement           double precision,
    besoin_fonds_de_roulement    double precision,
    tresorerie                   double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);

CREATE TABLE ressources_humaines_sanitaire (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    nombre_etp_pm          double precision,
    nombre_etp_pnm         double precision,
    depenses_interim_pm    double precision,
    jours_absenteisme_pm   double precision,
    jours_absenteisme_pnm  double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);

-- QUO_SAN_FINANCE, EJ-level rows (`Finess ET` empty). Helios names these budget columns `…_budget_global`/`…_budget_h`.
CREATE TABLE budget_et_finances_entite_juridique (
    annee                           integer     NOT NULL,
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    depenses_titre_i_budget_global    double precision,
    depenses_titre_ii_budget_global   double precision,
    depenses_titre_iii_budget_global  double precision,
    depenses_titre_iv_budget_global   double precision,
    recettes_titre_i_budget_global    double precision,
    recettes_titre_ii_budget_global   double precision,
    recettes_titre_iii_budget_global  double precision,
    recettes_titre_iv_budget_global   double precision,
    depenses_titre_i_budget_h         double precision,
    depenses_titre_ii_budget_h        double precision,
    depenses_titre_iii_budget_h       double precision,
    depenses_titre_iv_budget_h        double precision,
    recettes_titre_i_budget_h         double precision,
    recettes_titre_ii_budget_h        double precision,
    recettes_titre_iii_budget_h       double precision,
    resultat_net_comptable_san        double precision,
    taux_de_caf_nette_san             double precision,
    ratio_dependance_financiere       double precision,
    fonds_de_roulement                double precision,
    besoin_fonds_de_roulement         double precision,
    tresorerie                        double precision,
    PRIMARY KEY (annee, numero_finess_entite_juridique)
);

CREATE TABLE ressources_humaines_entite_juridique (
    annee                           integer     NOT NULL,
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    nombre_etp_pm          double precision,
    nombre_etp_pnm         double precision,
    depenses_interim_pm    double precision,
    jours_absenteisme_pm   double precision,
    jours_absenteisme_pnm  double precision,
    PRIMARY KEY (annee, numero_finess_entite_juridique)
);

-- MEN_HAPI: resource allocations notified (Helios downloads the file but never imports it). An allocation goes to an
-- ET (`Finess` filled) or to the EJ itself (`Finess` empty); `beneficiaire` is that ET, else the EJ, so that the key
-- never holds a null. Text key parts absent from the file are '' (a key column cannot be null).
CREATE TABLE allocations (
    annee                                    integer     NOT NULL,
    beneficiaire                             varchar(9)  NOT NULL,
    mois_annee                               text        NOT NULL,
    enveloppe                                text        NOT NULL,
    sous_enveloppe                           text        NOT NULL,
    mode_delegation                          text        NOT NULL,
    numero_finess_entite_juridique           varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    numero_finess_etablissement_territorial  varchar(9)
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    montant_notifie                          double precision,
    PRIMARY KEY (annee, beneficiaire, mois_annee, enveloppe, sous_enveloppe, mode_delegation),
    CONSTRAINT allocations_beneficiaire_et_sinon_ej CHECK (
        beneficiaire = coalesce(numero_finess_etablissement_territorial, numero_finess_entite_juridique)
    )
);
CREATE INDEX allocations_par_entite_juridique ON allocations (numero_finess_entite_juridique, annee);

-- EJ aggregates, recomputed by the loader from the ET tables for the EJs a file touches, in that file's transaction
-- (relais_loader.adapters.pg_aggregates). Sums stay null when every ET value is null; average stays (DMS) are the
-- mean of the ETs' DMS weighted by their full-hospitalisation stays, never a sum.
CREATE TABLE activite_sanitaire_entite_juridique (
    annee                           integer     NOT NULL,
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    nombre_sejours_partiels_medecine     double precision,
    nombre_sejours_partiels_obstetrique  double precision,
    nombre_sejours_partiels_chirurgie    double precision,
    nombre_sejours_complets_medecine     double precision,
    nombre_sejours_complets_obstetrique  double precision,
    nombre_sejours_complets_chirurgie    double precision,
    nombre_sejours_had                   double precision,
    nombre_journees_completes_ssr        double precision,
    nombre_journees_partiels_ssr         double precision,
    nombre_journees_complete_psy         double precision,
    nombre_journees_partielles_psy       double precision,
    nombre_passages_urgences             double precision,
    nombre_journees_usld                 double precision,
    duree_moyenne_sejour_medecine        double precision,
    duree_moyenne_sejour_chirurgie       double precision,
    duree_moyenne_sejour_obstetrique     double precision,
    PRIMARY KEY (annee, numero_finess_entite_juridique)
);

CREATE TABLE activite_sanitaire_mensuel_entite_juridique (
    annee                           integer     NOT NULL,
    mois                            integer     NOT NULL CHECK (mois BETWEEN 1 AND 12),
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    nombre_sejours_partiels_medecine     double precision,
    nombre_sejours_partiels_obstetrique  double precision,
    nombre_sejours_partiels_chirurgie    double precision,
    nombre_sejours_complets_medecine     double precision,
    nombre_sejours_complets_obstetrique  double precision,
    nombre_sejours_complets_chirurgie    double precision,
    nombre_journees_completes_ssr        double precision,
    nombre_journees_partiels_ssr         double precision,
    nombre_journees_completes_psy        double precision,
    nombre_journees_partielles_psy       double precision,
    duree_moyenne_sejour_medecine        double precision,
    duree_moyenne_sejour_chirurgie       double precision,
    duree_moyenne_sejour_obstetrique     double precision,
    PRIMARY KEY (annee, mois, numero_finess_entite_juridique)
);

CREATE TABLE capacite_autorisation_entite_juridique (
    annee                           integer     NOT NULL,
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    nombre_places_chirurgie            integer,
    nombre_places_obstetrique          integer,
    nombre_places_medecine             integer,
    nombre_places_ssr                  integer,
    nombre_lits_chirurgie              integer,
    nombre_lits_obstetrique            integer,
    nombre_lits_medecine               integer,
    nombre_lits_ssr                    integer,
    nombre_lits_usld                   integer,
    nombre_lits_ou_places_psy_complet  integer,
    nombre_places_psy_partiel          integer,
    PRIMARY KEY (annee, numero_finess_entite_juridique)
);

-- N (DIAMANT's reference year, which sets the year window) recorded with each load.
ALTER TABLE loaded_file ADD COLUMN reference_year integer;
