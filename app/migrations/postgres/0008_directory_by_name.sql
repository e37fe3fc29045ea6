-- The admin's directory page lists people in name order, searched by the start of a name or of a
-- work e-mail, keyset-paged on (name key, id): these indexes serve it for any size. The name key is
-- the expression `storage::NAME_KEY` (without its table alias): an expression index serves only
-- the same expression.
CREATE INDEX employees_org_name ON employees (org_id, (lower(COALESCE(display_name, TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))))), id);
CREATE INDEX employees_org_active_name ON employees (org_id, active, (lower(COALESCE(display_name, TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))))), id);
