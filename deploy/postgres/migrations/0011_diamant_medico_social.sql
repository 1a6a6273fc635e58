-- DIAMANT, medico-social sector: ANN_MS_TDP_ET, ANN_ERRD_EJ_ET, ANN_CA_EJ_ET, ANN_ERRD_EJ, ANN_PER_ERRD_EPRD.
--
-- Two layers. Each file loads its normalised rows into a source table of its own (diamant_*), keyed as the file is.
-- The Helios tables (activite_medico_social, budget_et_finances_medico_social, ressources_humaines_medico_social,
-- cpom; names and keys as in Helios, shared/specs/diamant.md §6) combine several files, so the loader recomputes
-- them from the source tables for the ETs a file touched, in that file's transaction
-- (relais_loader.adapters.pg_medico_social, rules in relais_diamant.medico_social): files arrive in any order and
-- any may be re-sent, and the result depends only on the source tables' contents.
-- FINESS columns are varchar(9) with foreign keys to the referential (no cascade).

-- --- source tables -------------------------------------------------------------------------------------------------

CREATE TABLE diamant_ms_tdp_et (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    nombre_moyen_journees_absence_personnes_accompagnees   double precision,
    duree_moyenne_sejour_accompagnement_personnes_sorties  double precision,
    file_active_personnes_accompagnees                     double precision,
    taux_realisation_activite_esms                         double precision,
    taux_realisation_activite_camsp_cmpp                   double precision,
    nombre_cdd_remplacement                                double precision,
    taux_etp_vacants                                       double precision,
    taux_prestation_externes                               double precision,
    taux_rotation_personnel                                double precision,
    taux_absenteisme_maladie_courte_duree                  double precision,
    taux_absenteisme_maladie_moyenne_duree                 double precision,
    taux_absenteisme_maladie_longue_duree                  double precision,
    taux_absenteisme_maternite_paternite                   double precision,
    taux_absenteisme_accident_maladie_professionnelle      double precision,
    taux_absenteisme_conges_speciaux                       double precision,
    taux_absenteisme_hors_formation                        double precision,
    date_d_entree_en_vigueur                               date,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX diamant_ms_tdp_et_par_etablissement ON diamant_ms_tdp_et (numero_finess_etablissement_territorial);

-- One row per ET, year and ERRD deposit: a corrected ERRD is a new deposit, and the highest one wins.
CREATE TABLE diamant_errd_ej_et (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    id_depot                                 bigint      NOT NULL,
    type_depot                                   text,
    taux_occupation_accueil_de_jour              double precision,
    taux_occupation_en_hebergement_temporaire    double precision,
    taux_occupation_en_hebergement_permanent     double precision,
    taux_occupation_externat                     double precision,
    taux_occupation_semi_internat                double precision,
    taux_occupation_internat                     double precision,
    taux_occupation_autre                        double precision,
    taux_occupation_global_errd                  double precision,
    etat_taux_occupation_global_errd             text,
    taux_occupation_global_autres_esms           double precision,
    etat_taux_occupation_global_autres_esms      text,
    contribution_frais_de_siege_groupement       double precision,
    depenses_groupe_i                            double precision,
    depenses_groupe_ii                           double precision,
    depenses_groupe_iii                          double precision,
    recettes_groupe_i                            double precision,
    recettes_groupe_ii                           double precision,
    recettes_groupe_iii                          double precision,
    resultat_net_comptable                       double precision,
    nombre_etp_realises                          double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial, id_depot)
);
CREATE INDEX diamant_errd_ej_et_par_etablissement ON diamant_errd_ej_et (numero_finess_etablissement_territorial);

CREATE TABLE diamant_ca_ej_et (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    taux_occupation_seances          double precision,
    taux_occupation_externat         double precision,
    taux_occupation_semi_internat    double precision,
    taux_occupation_internat         double precision,
    taux_occupation_autre            double precision,
    taux_occupation_global_ca        double precision,
    etat_taux_occupation_global_ca   text,
    resultat_net_comptable_ca_ph     double precision,
    resultat_net_comptable_ca_pa     double precision,
    taux_de_caf                      double precision,
    taux_de_vetuste_construction     double precision,
    charges                          double precision,
    produits                         double precision,
    recettes_groupe_i                double precision,
    recettes_groupe_ii               double precision,
    recettes_groupe_iii              double precision,
    depenses_groupe_i                double precision,
    depenses_groupe_ii               double precision,
    depenses_groupe_iii              double precision,
    nombre_etp_realises              double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX diamant_ca_ej_et_par_etablissement ON diamant_ca_ej_et (numero_finess_etablissement_territorial);

-- The rates of each ERRD deposit (an EJ's), reached from the ETs through diamant_per_errd_eprd.
CREATE TABLE diamant_errd_ej (
    annee                           integer     NOT NULL,
    id_depot                        bigint      NOT NULL,
    numero_finess_entite_juridique  varchar(9)  NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    taux_de_caf                   double precision,
    taux_de_vetuste_construction  double precision,
    fonds_de_roulement            double precision,
    PRIMARY KEY (annee, id_depot)
);
CREATE INDEX diamant_errd_ej_par_depot ON diamant_errd_ej (id_depot);

CREATE TABLE diamant_per_errd_eprd (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    id_depot                                 bigint      NOT NULL,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial, id_depot)
);
CREATE INDEX diamant_per_errd_eprd_par_depot ON diamant_per_errd_eprd (id_depot);
CREATE INDEX diamant_per_errd_eprd_par_etablissement
    ON diamant_per_errd_eprd (numero_finess_etablissement_territorial);

-- --- Helios tables, derived ----------------------------------------------------------------------------------------

CREATE TABLE activite_medico_social (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    taux_occupation_accueil_de_jour                        double precision,
    taux_occupation_en_hebergement_temporaire              double precision,
    taux_occupation_en_hebergement_permanent               double precision,
    taux_occupation_externat                               double precision,
    taux_occupation_semi_internat                          double precision,
    taux_occupation_internat                               double precision,
    taux_occupation_autre                                  double precision,
    taux_occupation_global                                 double precision,
    taux_occupation_seances                                double precision,
    taux_realisation_activite                              double precision,
    nombre_moyen_journees_absence_personnes_accompagnees   double precision,
    duree_moyenne_sejour_accompagnement_personnes_sorties  double precision,
    file_active_personnes_accompagnees                     double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX activite_medico_social_par_etablissement
    ON activite_medico_social (numero_finess_etablissement_territorial);

CREATE TYPE cadre_budgetaire AS ENUM ('ERRD', 'CA_PA', 'CA_PH');

CREATE TABLE budget_et_finances_medico_social (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    cadre_budgetaire                         cadre_budgetaire NOT NULL,
    contribution_frais_de_siege_groupement   double precision,
    depenses_groupe_i                        double precision,
    depenses_groupe_ii                       double precision,
    depenses_groupe_iii                      double precision,
    recettes_groupe_i                        double precision,
    recettes_groupe_ii                       double precision,
    recettes_groupe_iii                      double precision,
    resultat_net_comptable                   double precision,
    charges                                  double precision,
    produits                                 double precision,
    taux_de_caf                              double precision,
    taux_de_vetuste_construction             double precision,
    fonds_de_roulement                       double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX budget_et_finances_medico_social_par_etablissement
    ON budget_et_finances_medico_social (numero_finess_etablissement_territorial);

CREATE TABLE ressources_humaines_medico_social (
    annee                                    integer     NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    nombre_cdd_remplacement                            double precision,
    taux_etp_vacants                                   double precision,
    taux_prestation_externes                           double precision,
    taux_rotation_personnel                            double precision,
    taux_absenteisme_maladie_courte_duree              double precision,
    taux_absenteisme_maladie_moyenne_duree             double precision,
    taux_absenteisme_maladie_longue_duree              double precision,
    taux_absenteisme_maternite_paternite               double precision,
    taux_absenteisme_accident_maladie_professionnelle  double precision,
    taux_absenteisme_conges_speciaux                   double precision,
    taux_absenteisme_hors_formation                    double precision,
    nombre_etp_realises                                double precision,
    PRIMARY KEY (annee, numero_finess_etablissement_territorial)
);
CREATE INDEX ressources_humaines_medico_social_par_etablissement
    ON ressources_humaines_medico_social (numero_finess_etablissement_territorial);

-- The CPOM in force: per ET, the date of the newest ANN_MS_TDP_ET year that has one.
CREATE TABLE cpom (
    numero_finess_etablissement_territorial  varchar(9)  PRIMARY KEY
        REFERENCES etablissement_territorial (numero_finess_etablissement_territorial),
    date_d_entree_en_vigueur                 date        NOT NULL
);
