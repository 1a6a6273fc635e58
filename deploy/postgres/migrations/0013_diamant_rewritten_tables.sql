-- DIAMANT loads rewrite their tables rather than upsert into them (relais_loader.adapters.pg_rewrite): a national
-- extract restates five years of every establishment, and a table refilled bare, then given its key and indexes and
-- its references checked in bulk, costs a quarter of row-by-row upserts checked one foreign key at a time.
--
-- The derived medico-social tables are recomputed whole from the source tables (diamant_*), so what must be
-- recomputed is a table, no longer a list of ETs: a file marks the derived tables its source feeds. The marks are
-- only ever inserted (no key to collide on), so a file's transaction never waits for a recomputation that is
-- deleting the marks it read.
DROP TABLE diamant_medico_social_a_recalculer;
CREATE TABLE diamant_medico_social_a_recalculer (
    id             bigserial  PRIMARY KEY,
    derived_table  text       NOT NULL,
    source_table   text       NOT NULL
);

-- Rewritten tables are written once, never updated in place: no room to keep free in their pages.
ALTER TABLE activite_medico_social RESET (fillfactor);
ALTER TABLE budget_et_finances_medico_social RESET (fillfactor);
ALTER TABLE ressources_humaines_medico_social RESET (fillfactor);

-- The source tables are read whole by each recomputation (hash joins): their per-ET and per-deposit indexes served
-- the per-ET recomputation, and would now only be rebuilt for nothing with every file.
DROP INDEX diamant_ms_tdp_et_par_etablissement;
DROP INDEX diamant_errd_ej_et_par_etablissement;
DROP INDEX diamant_ca_ej_et_par_etablissement;
DROP INDEX diamant_errd_ej_par_depot;
DROP INDEX diamant_per_errd_eprd_par_depot;
DROP INDEX diamant_per_errd_eprd_par_etablissement;
