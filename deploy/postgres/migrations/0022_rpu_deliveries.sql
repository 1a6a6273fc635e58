-- RPU outbound: delivery ledger of the exports (Santé publique France, ATIH, ARS) and the absence alert ledger.

-- One row per (export, destination, file): planned → sending → delivered. `sending` is written before any byte
-- leaves and `delivered` only after the receiver confirmed, so after a crash every planned or sending row is sent
-- again (harmless: same final SFTP name, or the same Idempotency-Key = sha256 over HTTPS) and none is skipped.
-- The bytes stay in the content-addressed blob store under `sha256`; the manifest is the export's last row (seq).
CREATE TABLE rpu_delivery (
    export_id      text        NOT NULL,
    destination    text        NOT NULL,
    file_name      text        NOT NULL,
    seq            integer     NOT NULL CHECK (seq >= 0),
    sha256         char(64)    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size           bigint      NOT NULL CHECK (size >= 0),
    media_type     text        NOT NULL DEFAULT 'application/octet-stream',
    finess         text[]      NOT NULL DEFAULT '{}',
    trace_parents  text[]      NOT NULL DEFAULT '{}',
    state          text        NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'sending', 'delivered')),
    attempts       integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error     text,
    planned_at     timestamptz NOT NULL DEFAULT now(),
    sending_at     timestamptz,
    delivered_at   timestamptz,
    PRIMARY KEY (export_id, destination, file_name),
    UNIQUE (export_id, destination, seq),
    CONSTRAINT rpu_delivery_delivered_when CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX rpu_delivery_pending ON rpu_delivery (destination, export_id, seq) WHERE state <> 'delivered';

-- One alert per establishment and day, however often the check runs (the primary key is the guarantee).
CREATE TABLE rpu_absence_alert (
    finess          varchar(9)  NOT NULL CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    day             date        NOT NULL,
    reason          text        NOT NULL CHECK (reason IN ('absence', 'volume')),
    message         text        NOT NULL,
    establishment   text,
    last_file       text,
    last_file_at    timestamptz,
    last_trace      text,
    missing_days    date[]      NOT NULL DEFAULT '{}',
    day_count       integer,
    threshold       double precision,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (finess, day)
);

-- Per alert and channel (mail, webhook): sent once; a failed channel is retried by the next check without
-- re-sending on the channels that already succeeded.
CREATE TABLE rpu_absence_notification (
    finess       varchar(9)  NOT NULL,
    day          date        NOT NULL,
    channel      text        NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    notified_at  timestamptz,
    PRIMARY KEY (finess, day, channel),
    FOREIGN KEY (finess, day) REFERENCES rpu_absence_alert (finess, day)
);
