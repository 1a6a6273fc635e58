-- FINESS referential (EJ, ET)
-- Names follow the Helios reference schema. FINESS numbers are text, never integers: leading zeros and the
-- Corsican letters (2A, 2B) must survive. Rows come from relais_finess readers (XML flux or open-data CSV).
CREATE TABLE entite_juridique (
    numero_finess_entite_juridique  varchar(9)   PRIMARY KEY
        CHECK (numero_finess_entite_juridique ~ '^[0-9][0-9AB][0-9]{7}$'),
    raison_sociale                  varchar(255) NOT NULL,
    raison_sociale_longue           varchar(255),
    statut_juridique                varchar(4),
    libelle_statut_juridique        varchar(255),
    departement                     varchar(3),
    commune                         varchar(5),
    date_fermeture                  date,
    fichier_source                  text,
    date_mise_a_jour                timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE etablissement_territorial (
    numero_finess_etablissement_territorial  varchar(9)   PRIMARY KEY
        CHECK (numero_finess_etablissement_territorial ~ '^[0-9][0-9AB][0-9]{7}$'),
    -- No cascade: an EJ still running sites must not vanish silently with them.
    numero_finess_entite_juridique           varchar(9)   NOT NULL
        REFERENCES entite_juridique (numero_finess_entite_juridique),
    raison_sociale                           varchar(255) NOT NULL,
    raison_sociale_longue                    varchar(255),
    categorie                                varchar(3)   NOT NULL CHECK (categorie ~ '^[0-9]{3}$'),
    libelle_categorie                        varchar(255),
    departement                              varchar(3),
    commune                                  varchar(5),
    date_ouverture                           date,
    date_fermeture                           date,
    -- indcaduc = 'O' in the flux: the authorisation lapsed before the site ever operated.
    caduc                                    boolean      NOT NULL DEFAULT false,
    fichier_source                           text,
    date_mise_a_jour                         timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX etablissement_territorial_par_entite_juridique
    ON etablissement_territorial (numero_finess_entite_juridique);
CREATE INDEX etablissement_territorial_par_departement_categorie
    ON etablissement_territorial (departement, categorie);
