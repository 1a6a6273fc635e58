-- RPU replay ("reprise") requested by the ARS: retransmit a FINESS × period to Santé publique France.
--
-- A request moves requested → data_received (the regional database now holds every day of the period) → sent (a
-- daily SPF export planned it: `export_id`) → closed (that export was delivered). A request the assessment found
-- not needed (every day already held, or the missing days still inside the 7-day rolling window) is closed at once.
-- One request per FINESS × period, whatever its state: asking again returns it and changes nothing.
CREATE TABLE rpu_replay_request (
    request_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finess            varchar(9)  NOT NULL CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    first_day         date        NOT NULL,
    last_day          date        NOT NULL,
    needed            boolean     NOT NULL,
    reason            text        NOT NULL,                 -- the assessment, in French, as answered to the ARS
    missing_days      date[]      NOT NULL DEFAULT '{}',    -- days of the period absent when it was requested
    state             text        NOT NULL CHECK (state IN ('requested', 'data_received', 'sent', 'closed')),
    requested_by      text        NOT NULL,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    data_received_at  timestamptz,
    export_id         text,                                 -- the SPF export that carried it
    sent_at           timestamptz,
    closed_at         timestamptz,
    CONSTRAINT rpu_replay_period CHECK (first_day <= last_day),
    CONSTRAINT rpu_replay_sent_has_export CHECK (state NOT IN ('sent') OR export_id IS NOT NULL),
    UNIQUE (finess, first_day, last_day)
);
CREATE INDEX rpu_replay_open ON rpu_replay_request (state) WHERE state <> 'closed';

-- Every action on a request, by whom and when: the ARS user's request, and each automatic step (actor 'relais').
-- Append-only.
CREATE TABLE rpu_replay_audit (
    audit_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  bigint      NOT NULL REFERENCES rpu_replay_request (request_id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text        NOT NULL,
    action      text        NOT NULL,                       -- requested, data_received, sent, closed
    detail      text        NOT NULL DEFAULT ''
);
CREATE INDEX rpu_replay_audit_by_request ON rpu_replay_audit (request_id, audit_id);
