-- The employee directory fed by the active connection, and the sync runs that feed it.
-- Times are Unix milliseconds; flags are 0/1. Both dialects share this text (SQLite's copy is equal).

-- People. `id` is ours and stable: a relink (new Merge ids) or a switch of source re-binds the row,
-- never duplicates it. Keyed for upserts by (organization, source connection, HR system id).
CREATE TABLE employees (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id      TEXT NOT NULL,
    remote_id          TEXT NOT NULL,
    merge_id           TEXT NOT NULL,
    first_name         TEXT,
    last_name          TEXT,
    display_name       TEXT,
    work_email         TEXT,
    work_email_key     TEXT,
    employment_status  TEXT,
    start_date         TEXT,
    termination_date   TEXT,
    manager_merge_id   TEXT,
    team_merge_id      TEXT,
    location_merge_id  TEXT,
    -- The references above resolved to our ids after a run's records phase (NULL while parked:
    -- the record referred to is not seen yet).
    manager_id         TEXT,
    team_id            TEXT,
    location_id        TEXT,
    remote_was_deleted BIGINT NOT NULL DEFAULT 0 CHECK (remote_was_deleted IN (0, 1)),
    -- In the directory (1) or deactivated (0): changed only by a run's reconciliation or an admin.
    active             BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- An admin chose "Keep everyone" for this person's held removal; cleared when the record changes.
    kept               BIGINT NOT NULL DEFAULT 0 CHECK (kept IN (0, 1)),
    -- Complete full scans (ended DONE) in a row that did not see this record; gone at 2.
    missing_scans      BIGINT NOT NULL DEFAULT 0,
    seen_run_id        TEXT,
    content_hash       TEXT NOT NULL,
    remote_modified_at TEXT,
    created_at         BIGINT NOT NULL,
    modified_at        BIGINT NOT NULL,
    UNIQUE (org_id, connection_id, remote_id)
);
CREATE INDEX employees_merge ON employees (connection_id, merge_id);
CREATE INDEX employees_org_modified ON employees (org_id, modified_at, id);
CREATE INDEX employees_org_email ON employees (org_id, work_email_key);

CREATE TABLE employments (
    org_id             TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id      TEXT NOT NULL,
    remote_id          TEXT NOT NULL,
    merge_id           TEXT NOT NULL,
    employee_merge_id  TEXT,
    job_title          TEXT,
    employment_type    TEXT,
    effective_date     TEXT,
    remote_was_deleted BIGINT NOT NULL DEFAULT 0 CHECK (remote_was_deleted IN (0, 1)),
    content_hash       TEXT NOT NULL,
    modified_at        BIGINT NOT NULL,
    PRIMARY KEY (org_id, connection_id, remote_id)
);
CREATE INDEX employments_employee ON employments (connection_id, employee_merge_id);

-- Teams, locations and groups: one shape, told apart by `kind`.
CREATE TABLE directory_units (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id      TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('team', 'location', 'group')),
    remote_id          TEXT NOT NULL,
    merge_id           TEXT NOT NULL,
    name               TEXT,
    parent_merge_id    TEXT,
    detail             TEXT,
    remote_was_deleted BIGINT NOT NULL DEFAULT 0 CHECK (remote_was_deleted IN (0, 1)),
    content_hash       TEXT NOT NULL,
    modified_at        BIGINT NOT NULL,
    UNIQUE (org_id, connection_id, kind, remote_id)
);
CREATE INDEX directory_units_merge ON directory_units (connection_id, kind, merge_id);

-- One sync of one connection. `attempt` is the fencing token: a worker writes only while the row
-- still says running with its attempt, so a stale worker (lost lease, restarted job) cannot write.
CREATE TABLE sync_runs (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    trigger_kind    TEXT NOT NULL CHECK (trigger_kind IN ('activation', 'relink', 'schedule', 'poll', 'webhook', 'manual')),
    -- What made it, unique forever: e.g. `poll:<connection>:<hour>`, `manual:<uuid>`.
    trigger_key     TEXT NOT NULL UNIQUE,
    mode            TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished')),
    outcome         TEXT CHECK (outcome IN ('done', 'held', 'partial', 'provider_failed', 'unauthorized', 'failed')),
    outcome_detail  TEXT,
    attempt         BIGINT NOT NULL DEFAULT 0,
    -- Job pushes so far (the watchdog pushes again when nothing started a queued run).
    pushes          BIGINT NOT NULL DEFAULT 0,
    queued_at       BIGINT NOT NULL,
    started_at      BIGINT,
    heartbeat_at    BIGINT,
    finished_at     BIGINT,
    -- The upper bound of this run's window (its start): the next incremental reads from here.
    upper_bound     BIGINT,
    added           BIGINT NOT NULL DEFAULT 0,
    changed         BIGINT NOT NULL DEFAULT 0,
    deactivated     BIGINT NOT NULL DEFAULT 0,
    reactivated     BIGINT NOT NULL DEFAULT 0,
    held            BIGINT NOT NULL DEFAULT 0,
    -- pending | applied | kept | superseded, when the safety brake held deactivations.
    hold_state      TEXT CHECK (hold_state IN ('pending', 'applied', 'kept', 'superseded'))
);
-- At most one queued or running run per connection, across every instance.
CREATE UNIQUE INDEX sync_runs_one_pending ON sync_runs (connection_id) WHERE state IN ('queued', 'running');
CREATE INDEX sync_runs_connection ON sync_runs (connection_id, queued_at);
CREATE INDEX sync_runs_state ON sync_runs (state, queued_at);

-- Each stream's checkpoint within a run: the cursor after the last committed page.
CREATE TABLE sync_run_streams (
    run_id          TEXT NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    modified_after  BIGINT,
    cursor          TEXT,
    pages           BIGINT NOT NULL DEFAULT 0,
    records         BIGINT NOT NULL DEFAULT 0,
    done            BIGINT NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    PRIMARY KEY (run_id, stream)
);

-- Per connection and stream: the upper bound of the last completed pull (next window starts here).
CREATE TABLE sync_bounds (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    upper_bound     BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

-- Deactivations the safety brake held for an admin's decision.
CREATE TABLE sync_held_removals (
    run_id          TEXT NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    employee_id     TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    reason          TEXT NOT NULL CHECK (reason IN ('terminated', 'deleted', 'missing')),
    PRIMARY KEY (run_id, employee_id)
);

-- A preview of switching the organization's source to another connection.
CREATE TABLE source_previews (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    joiners         BIGINT NOT NULL,
    leavers         BIGINT NOT NULL,
    matched         BIGINT NOT NULL,
    matched_by_email BIGINT NOT NULL,
    -- JSON: [[employee id, remote id, merge id], ...] and [employee id, ...].
    matches         TEXT NOT NULL,
    leaver_ids      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'confirmed', 'cancelled'))
);
