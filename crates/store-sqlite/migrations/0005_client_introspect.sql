-- Resource servers: only a client registered with `--introspect` may call /oauth/introspect
-- (ADR 0018). Every client registered before this migration may not. The SQLite edition.
ALTER TABLE oauth_clients ADD COLUMN introspect INTEGER NOT NULL DEFAULT 0 CHECK (introspect IN (0, 1));
