-- The timeline names what an event was about as it was named then, and keeps a result (a test's
-- health) in a form it can put into words in any language. Events from before stay readable: empty.
ALTER TABLE audit_events ADD COLUMN subject_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN outcome TEXT NOT NULL DEFAULT '';

-- Every webhook delivery received, for the service desk's webhook log, including those whose
-- signature did not verify (stored, never acted on), and every replay of one (`replay_of`).
-- `webhook_deliveries` (0002) stays the replay protection. The body is kept sealed (it can carry
-- an account token) when it is at most 64 KiB; `body_bytes` is its size either way.
CREATE TABLE webhook_log (
    id                TEXT PRIMARY KEY,
    received_at       BIGINT NOT NULL,
    event             TEXT NOT NULL,
    linked_account_id TEXT,
    verdict           TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid', 'unknown_key')),
    outcome           TEXT NOT NULL
                      CHECK (outcome IN ('handled', 'duplicate', 'ignored', 'failed', 'rejected')),
    reason            TEXT,
    body_bytes        BIGINT NOT NULL,
    body_enc          BLOB,
    body_key          TEXT,
    replay_of         TEXT REFERENCES webhook_log(id) ON DELETE SET NULL,
    replayed_by_name  TEXT
);
CREATE INDEX webhook_log_received ON webhook_log (received_at);
