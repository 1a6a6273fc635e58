-- Platform ledgers: what the fetcher has already downloaded (same name and same content is fetched once).
CREATE TABLE fetched_file (
    source_system  text        NOT NULL,
    file_name      text        NOT NULL,
    sha256         char(64)    NOT NULL,
    size           bigint      NOT NULL,
    remote_path    text        NOT NULL,
    remote_mtime   bigint,
    fetched_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (file_name, sha256)
);
CREATE INDEX fetched_file_by_name ON fetched_file (file_name, size, remote_mtime);
