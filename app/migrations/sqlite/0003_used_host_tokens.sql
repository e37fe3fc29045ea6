-- Host-shell sign-in tokens already used, so that a token works once (a copied or leaked token cannot
-- open a second session). `token_hash` is the SHA-256 (hex) of the whole token; a row is kept until
-- the token could no longer verify anyway (`expires_at`, ms), then housekeeping removes it.
CREATE TABLE used_host_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_host_tokens_expires ON used_host_tokens (expires_at);
