-- Webhook deliveries already received, for replay protection. `id` is the SHA-256 (hex) of the
-- delivery's signature value, which Merge advises as the unique event id. `state` is 'processing'
-- while a delivery is being handled and 'done' after; a failed attempt removes its row so the
-- provider's retry is processed again.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('processing', 'done')),
    received_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
