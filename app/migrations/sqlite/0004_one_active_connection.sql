-- One active connection per organization, kept by the database: two writers (even two server
-- instances) cannot both activate. `lifecycle` loses the never-used 'removed'; `health_status` gets
-- the CHECK of its enum. SQLite cannot alter a CHECK, so the table is rebuilt (create, copy, drop,
-- rename); nothing references `connections`, and its rows keep their values.

-- Should an earlier race have left several active connections, the most recently changed one stays.
UPDATE connections SET enabled = 0
WHERE enabled = 1 AND id <> (
    SELECT c2.id FROM connections c2
    WHERE c2.org_id = connections.org_id AND c2.enabled = 1
    ORDER BY c2.updated_at DESC, c2.id DESC LIMIT 1
);

CREATE TABLE connections_new (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('direct', 'manual')),
    provider_slug       TEXT,
    display_name        TEXT NOT NULL,
    display_name_key    TEXT NOT NULL,
    end_user_origin_id  TEXT NOT NULL,
    linked_account_id   TEXT,
    account_token_enc   BLOB,
    account_token_key   TEXT,
    account_token_last4 TEXT,
    lifecycle           TEXT NOT NULL CHECK (lifecycle IN ('pending_link', 'linked')),
    health_status       TEXT NOT NULL DEFAULT 'unknown'
                        CHECK (health_status IN ('unknown', 'ok', 'relink_needed', 'failing')),
    health_detail       TEXT,
    health_checked_at   BIGINT,
    provider_status     TEXT,
    enabled             BIGINT NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (org_id, display_name_key),
    UNIQUE (end_user_origin_id),
    -- Only a linked connection can be the active one.
    CHECK (enabled = 0 OR lifecycle = 'linked')
);

INSERT INTO connections_new (id, org_id, kind, provider_slug, display_name, display_name_key,
    end_user_origin_id, linked_account_id, account_token_enc, account_token_key, account_token_last4,
    lifecycle, health_status, health_detail, health_checked_at, provider_status, enabled, created_at,
    updated_at)
SELECT id, org_id, kind, provider_slug, display_name, display_name_key,
    end_user_origin_id, linked_account_id, account_token_enc, account_token_key, account_token_last4,
    lifecycle, health_status, health_detail, health_checked_at, provider_status, enabled, created_at,
    updated_at
FROM connections;

DROP TABLE connections;
ALTER TABLE connections_new RENAME TO connections;
CREATE INDEX connections_org ON connections (org_id);
CREATE UNIQUE INDEX connections_one_active ON connections (org_id) WHERE enabled = 1;
