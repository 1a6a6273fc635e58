-- RPU intake accounts
-- One SFTP account per establishment, named by its FINESS géographique, and read-only accounts for ARS staff.
-- Keys are OpenSSH public keys (`type base64 comment`); a password is optional and only ever stored as a scrypt
-- hash (`scrypt$n$r$p$salt$hash`). Accounts are disabled, never deleted, so the history of who could push stays.
CREATE TABLE rpu_account (
    account        text        PRIMARY KEY,
    role           text        NOT NULL CHECK (role IN ('etablissement', 'ars')),
    finess         varchar(9)  CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    public_keys    text[]      NOT NULL DEFAULT '{}',
    password_hash  text        CHECK (password_hash ~ '^scrypt[$]'),
    active         boolean     NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz,
    CONSTRAINT rpu_account_establishment_named_by_finess
        CHECK ((role = 'etablissement' AND finess = account) OR (role = 'ars' AND finess IS NULL)),
    CONSTRAINT rpu_account_disabled_when
        CHECK (active = (disabled_at IS NULL))
);
