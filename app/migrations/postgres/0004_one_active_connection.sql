-- One active connection per organization, kept by the database: two writers (even two server
-- instances) cannot both activate. `lifecycle` loses the never-used 'removed'; `health_status` gets
-- the CHECK of its enum.

-- Should an earlier race have left several active connections, the most recently changed one stays.
UPDATE connections SET enabled = 0
WHERE enabled = 1 AND id <> (
    SELECT c2.id FROM connections c2
    WHERE c2.org_id = connections.org_id AND c2.enabled = 1
    ORDER BY c2.updated_at DESC, c2.id DESC LIMIT 1
);

ALTER TABLE connections DROP CONSTRAINT connections_lifecycle_check;
ALTER TABLE connections ADD CONSTRAINT connections_lifecycle_check
    CHECK (lifecycle IN ('pending_link', 'linked'));
ALTER TABLE connections ADD CONSTRAINT connections_health_status_check
    CHECK (health_status IN ('unknown', 'ok', 'relink_needed', 'failing'));
-- Only a linked connection can be the active one.
ALTER TABLE connections ADD CONSTRAINT connections_active_is_linked
    CHECK (enabled = 0 OR lifecycle = 'linked');
CREATE UNIQUE INDEX connections_one_active ON connections (org_id) WHERE enabled = 1;
