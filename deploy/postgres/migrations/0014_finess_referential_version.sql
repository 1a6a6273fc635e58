-- A version number of the FINESS referential, moved by every statement that writes entite_juridique or
-- etablissement_territorial (whoever runs it): the transformer keeps the referential it read (~100k numbers) and
-- reads it again only when this number has moved, instead of once per file.
CREATE TABLE finess_referential_version (
    singleton  boolean  PRIMARY KEY DEFAULT true CHECK (singleton),
    version    bigint   NOT NULL
);
INSERT INTO finess_referential_version (version) VALUES (0);

CREATE FUNCTION finess_referential_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE finess_referential_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER entite_juridique_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON entite_juridique
    FOR EACH STATEMENT EXECUTE FUNCTION finess_referential_moved();
CREATE TRIGGER etablissement_territorial_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON etablissement_territorial
    FOR EACH STATEMENT EXECUTE FUNCTION finess_referential_moved();
