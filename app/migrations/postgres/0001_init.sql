-- HRIS Connect schema, PostgreSQL dialect. Times are Unix milliseconds (UTC).
-- Booleans are BIGINT 0/1: the same type on both backends through sqlx's Any driver.
CREATE TABLE organizations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hris_enabled BIGINT NOT NULL DEFAULT 0 CHECK (hris_enabled IN (0, 1)),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    locale          TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);

CREATE TABLE connections (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('direct', 'manual')),
    provider_slug       TEXT,
    display_name        TEXT NOT NULL,
    display_name_key    TEXT NOT NULL,
    end_user_origin_id  TEXT NOT NULL,
    linked_account_id   TEXT,
    account_token_enc   BYTEA,
    account_token_key   TEXT,
    account_token_last4 TEXT,
    lifecycle           TEXT NOT NULL CHECK (lifecycle IN ('pending_link', 'linked', 'removed')),
    health_status       TEXT NOT NULL DEFAULT 'unknown',
    health_detail       TEXT,
    health_checked_at   BIGINT,
    provider_status     TEXT,
    enabled             BIGINT NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (org_id, display_name_key),
    UNIQUE (end_user_origin_id)
);
CREATE INDEX connections_org ON connections (org_id);

CREATE TABLE magic_links (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    provider_slug       TEXT,
    end_user_origin_id  TEXT NOT NULL UNIQUE,
    url_enc             BYTEA NOT NULL,
    url_key             TEXT NOT NULL,
    issued_by_id        TEXT NOT NULL,
    issued_by_name      TEXT NOT NULL,
    issued_at           BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'used', 'revoked')),
    linked_account_id   TEXT,
    account_token_enc   BYTEA,
    account_token_key   TEXT,
    used_at             BIGINT,
    revoked_at          BIGINT
);
CREATE INDEX magic_links_org ON magic_links (org_id);

CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    detail       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, created_at);
