-- DIAMANT medico-social: the ETs whose derived tables must be recomputed, and room for in-place updates.
--
-- A medico-social file records here, in its own transaction, the ETs whose source rows (diamant_*) it inserted or
-- changed, once per derived Helios table its source feeds; the loader then recomputes each derived table for every
-- ET recorded for it, in a transaction that also deletes what it handled (relais_loader.adapters.pg_medico_social;
-- the four tables independently, so at once). Files loaded meanwhile are recomputed together, once, instead of once
-- per file; and since the record commits with the file, a crash between the two loses nothing (the next
-- recomputation, or the loader's start, finds the ETs still recorded).
-- Keyed by source table too, so that two files of different sources never wait on each other's rows here.
CREATE TABLE diamant_medico_social_a_recalculer (
    derived_table                            text        NOT NULL,
    source_table                             text        NOT NULL,
    numero_finess_etablissement_territorial  varchar(9)  NOT NULL,
    PRIMARY KEY (derived_table, source_table, numero_finess_etablissement_territorial)
);

-- A recomputation rewrites the derived rows of every ET a file changed (each source fills other columns of the same
-- rows): free space in each page lets PostgreSQL update them in place (HOT), without new index entries nor a
-- foreign-key check, since neither key changes.
ALTER TABLE activite_medico_social SET (fillfactor = 60);
ALTER TABLE budget_et_finances_medico_social SET (fillfactor = 60);
ALTER TABLE ressources_humaines_medico_social SET (fillfactor = 60);

-- A medico-social file is announced as loaded (pipeline.file.loaded.v1) once its derived tables are recomputed, which
-- happens after its transaction: until then its ledger row says it is not announced yet, so that a loader stopped in
-- between announces it at its next start.
ALTER TABLE loaded_file ADD COLUMN announced boolean NOT NULL DEFAULT true;
CREATE INDEX loaded_file_not_announced ON loaded_file (file_id) WHERE NOT announced;
