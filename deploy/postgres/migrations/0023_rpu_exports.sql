-- RPU onward exports (Santé publique France, ATIH, ARS) read the regional database of migration 0021.

-- The W3C traceparent of the consumer span that integrated the file: every delivery carrying the file's passages
-- and every alert about its establishment link back to (and appear in) the file's own trace. NULL for files
-- integrated before this column existed, or while tracing was off.
ALTER TABLE rpu_file ADD COLUMN traceparent text;

-- The daily Santé publique France export asks "which establishments had files integrated in [since, until)".
CREATE INDEX rpu_file_integrated_by_processed ON rpu_file (processed_at) WHERE status = 'integrated';
