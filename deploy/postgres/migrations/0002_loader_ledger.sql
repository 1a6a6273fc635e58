-- Loader ledger: one row per transformed file applied (or deliberately not applied), written in the same
-- transaction as the data, so a redelivered file is recognised and changes nothing.
CREATE TABLE loaded_file (
    file_id          char(64)    PRIMARY KEY,
    source           text        NOT NULL,
    file_name        text        NOT NULL,
    extraction_date  date,
    outcome          text        NOT NULL CHECK (outcome IN ('loaded', 'superseded')),
    rows_written     integer     NOT NULL,
    quality_report   jsonb       NOT NULL DEFAULT '{}',
    loaded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loaded_file_by_source ON loaded_file (source, extraction_date DESC) WHERE outcome = 'loaded';

-- When each source was last refreshed, as the Helios front end reads it; written in the same transaction as the
-- data it dates.
CREATE TABLE date_mise_a_jour_fichier_source (
    fichier               varchar(50) PRIMARY KEY,
    derniere_mise_a_jour  date        NOT NULL
);
