-- Resource servers: only a client registered with `--introspect` may call /oauth/introspect
-- (ADR 0018). Every client registered before this migration may not. The PostgreSQL edition.
ALTER TABLE oauth_clients ADD COLUMN introspect boolean NOT NULL DEFAULT false;
