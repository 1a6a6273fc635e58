-- RPU integration: the regional database of emergency-department passages.
--
-- "Tout fichier transmis annule et remplace le fichier précédent": the format has no passage identifier, so a file
-- replaces, for its FINESS, every stored passage of the days it covers. The unit of replacement is therefore
-- (FINESS, day): passages are keyed by it first, and rpu_day records which file owns each day and that file's
-- EXTRACT, so that an older extract arriving late never takes a day back from a newer one.

-- Every received file, integrated or not: the ledger that makes a redelivered event a no-op (written in the same
-- transaction as the passages) and the archive index (the raw bytes stay in the blob store, `blob_sha256`).
-- Keyed by establishment and content: two establishments pushing identical bytes (an empty or hostile file) are
-- two files, each with its own outcome and receipt.
CREATE TABLE rpu_file (
    file_id            char(64)    NOT NULL,                    -- SHA-256 of the file as received
    finess             varchar(9)  NOT NULL,                    -- the pushing account's FINESS géographique
    account            text        NOT NULL,
    file_name          text        NOT NULL,
    header_finess      varchar(9),                              -- FINESS of the ETABLISSEMENT element
    ordre              text,
    extract            timestamp,                               -- EXTRACT (local time), NULL when unreadable
    date_debut         date,
    date_fin           date,
    first_day          date,                                    -- covered window: header window ∪ ENTREE range
    last_day           date,
    status             text        NOT NULL CHECK (status IN ('integrated', 'rejected', 'superseded')),
    error              text,                                    -- why a rejected file was rejected
    passages_accepted  integer     NOT NULL DEFAULT 0,
    passages_rejected  integer     NOT NULL DEFAULT 0,
    passages_stored    integer     NOT NULL DEFAULT 0,          -- accepted passages of the days this file won
    days_replaced      date[]      NOT NULL DEFAULT '{}',
    quality            jsonb       NOT NULL DEFAULT '{}',       -- failures per FEDORU check, completeness per item
    receipt_name       text,
    receipt            text,                                    -- the accusé de réception, rewritten on redelivery
    blob_sha256        char(64)    NOT NULL,
    blob_size          bigint      NOT NULL,
    blob_media_type    text        NOT NULL,
    received_at        timestamptz NOT NULL,
    processed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (finess, file_id),
    CONSTRAINT rpu_file_rejected_has_error CHECK ((status = 'rejected') = (error IS NOT NULL))
);
CREATE INDEX rpu_file_by_finess_received ON rpu_file (finess, received_at);
CREATE INDEX rpu_file_by_received ON rpu_file (received_at);

-- Who owns each (FINESS, day): the last file applied to it, in EXTRACT order, and how many passages it left there.
-- A covered day without any passage has a row with 0: "sent, and empty" differs from "never sent".
CREATE TABLE rpu_day (
    finess        varchar(9)  NOT NULL,
    day           date        NOT NULL,
    file_id       char(64)    NOT NULL,
    extract       timestamp   NOT NULL,                         -- the owner's ordering key (EXTRACT, else reception)
    received_at   timestamptz NOT NULL,                         -- tie-break between equal EXTRACTs
    passages      integer     NOT NULL,
    replaced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (finess, day),
    FOREIGN KEY (finess, file_id) REFERENCES rpu_file (finess, file_id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX rpu_day_by_day ON rpu_day (day);

-- The passages. The primary key leads with (finess, day), so "delete the passages of FINESS F for days D1..Dn" is
-- one index range per day; record_number (rank of the PATIENT in its file) makes rows of one file distinct.
-- No foreign key to rpu_file: the bulk path (COPY of millions of rows) would pay a lookup per row, and rows are
-- only ever written by the transaction that writes their rpu_file row.
CREATE TABLE rpu_passage (
    finess          varchar(9)  NOT NULL,
    day             date        NOT NULL,                       -- ENTREE's date
    file_id         char(64)    NOT NULL,
    record_number   integer     NOT NULL,
    cp              text,
    commune         text,
    naissance       date,
    sexe            text,
    entree          timestamp   NOT NULL,
    mode_entree     text,
    provenance      text,
    transport       text,
    transport_pec   text,
    motif           text,
    gravite         text,
    dp              text,                                       -- normalised CIM-10
    da              text[]      NOT NULL DEFAULT '{}',
    actes           text[]      NOT NULL DEFAULT '{}',
    sortie          timestamp,
    mode_sortie     text,
    destination     text,
    orient          text,
    extras          jsonb,                                      -- non-standard elements, [[tag, text], ...]
    unparsed        jsonb,                                      -- NAISSANCE/SORTIE as sent when unreadable
    checks          text[]      NOT NULL DEFAULT '{}',          -- codes of the FEDORU checks this passage fails
    PRIMARY KEY (finess, day, file_id, record_number)
);

-- PATIENT elements refused on their own (ENTREE missing or unreadable), with their raw items.
CREATE TABLE rpu_rejected_record (
    finess         varchar(9)  NOT NULL,
    file_id        char(64)    NOT NULL,
    record_number  integer     NOT NULL,
    reason         text        NOT NULL,
    items          jsonb       NOT NULL,
    PRIMARY KEY (finess, file_id, record_number),
    FOREIGN KEY (finess, file_id) REFERENCES rpu_file (finess, file_id) DEFERRABLE INITIALLY DEFERRED
);
