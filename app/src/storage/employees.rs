//! The organization's employee directory: people, their employments, and the teams, locations and
//! groups they belong to, as the sync last saw them in the source connection.
//!
//! Writes are per page and idempotent: a record whose content hash did not change is not written
//! (reading an overlap again writes nothing and counts nothing). References (manager, team,
//! location) are stored as the provider's ids and resolved to ours after a run's records phase.

use super::{now_ms, Db, StoreResult, Tx};
use crate::{
    model::{ConnectionId, EmployeeId, OrganizationId, SyncRunId, UnitId},
    storage::{RemovalReason, RunCounts},
};

/// One person's data as the source has it (what the content hash covers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmployeeData {
    pub remote_id: String,
    /// The provider's ids (this one and the references below) are bindings, not content: a relink
    /// changes them all, and re-binding is not a change of the person.
    #[serde(skip)]
    pub merge_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub work_email: Option<String>,
    pub employment_status: Option<String>,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`.
    pub termination_date: Option<String>,
    #[serde(skip)]
    pub manager_merge_id: Option<String>,
    #[serde(skip)]
    pub team_merge_id: Option<String>,
    #[serde(skip)]
    pub location_merge_id: Option<String>,
    pub remote_was_deleted: bool,
    pub remote_modified_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmploymentData {
    pub remote_id: String,
    #[serde(skip)]
    pub merge_id: String,
    #[serde(skip)]
    pub employee_merge_id: Option<String>,
    pub job_title: Option<String>,
    pub employment_type: Option<String>,
    pub effective_date: Option<String>,
    pub remote_was_deleted: bool,
}

/// What a directory unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum UnitKind {
    Team,
    Location,
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnitData {
    pub remote_id: String,
    #[serde(skip)]
    pub merge_id: String,
    pub name: Option<String>,
    #[serde(skip)]
    pub parent_merge_id: Option<String>,
    /// Kind-specific facts as JSON (a location's city and country, a group's type).
    pub detail: Option<String>,
    pub remote_was_deleted: bool,
}

/// The provider ids a stored row is bound by, as one text (compared with [`Binding::binding`]).
trait Binding {
    fn binding(&self) -> String;
}

fn joined(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .map(|p| p.unwrap_or(""))
        .collect::<Vec<_>>()
        .join("|")
}

impl Binding for EmployeeData {
    fn binding(&self) -> String {
        joined(&[
            Some(&self.merge_id),
            self.manager_merge_id.as_deref(),
            self.team_merge_id.as_deref(),
            self.location_merge_id.as_deref(),
        ])
    }
}

impl Binding for EmploymentData {
    fn binding(&self) -> String {
        joined(&[Some(&self.merge_id), self.employee_merge_id.as_deref()])
    }
}

impl Binding for UnitData {
    fn binding(&self) -> String {
        joined(&[Some(&self.merge_id), self.parent_merge_id.as_deref()])
    }
}

/// The same text in SQL, per keyed table.
fn binding_sql(table: &str) -> &'static str {
    match table {
        "employees" => "merge_id || '|' || COALESCE(manager_merge_id, '') || '|' || COALESCE(team_merge_id, '') || '|' || COALESCE(location_merge_id, '')",
        "employments" => "merge_id || '|' || COALESCE(employee_merge_id, '')",
        _ => "merge_id || '|' || COALESCE(parent_merge_id, '')",
    }
}

impl EmployeeData {
    /// Whether a person first seen now belongs in the directory: not deleted, not inactive, not
    /// past a termination date (`today`: `YYYY-MM-DD`). Someone never in it does not "leave" it.
    pub fn belongs_in_directory(&self, today: &str) -> bool {
        !self.remote_was_deleted
            && self.employment_status.as_deref() != Some("INACTIVE")
            && self.termination_date.as_deref().is_none_or(|d| d > today)
    }
}

/// Today in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// SHA-256 of a record's content (its serde JSON: field order is the struct's), hex.
pub fn content_hash<T: serde::Serialize>(record: &T) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(record).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A person as the directory shows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmployeeRecord {
    pub id: EmployeeId,
    pub connection_id: ConnectionId,
    pub remote_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub work_email: Option<String>,
    pub job_title: Option<String>,
    pub employment_status: Option<String>,
    pub start_date: Option<String>,
    pub termination_date: Option<String>,
    pub manager_id: Option<EmployeeId>,
    pub team_id: Option<UnitId>,
    pub location_id: Option<UnitId>,
    pub active: i64,
    pub remote_was_deleted: i64,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnitRecord {
    pub id: UnitId,
    pub remote_id: String,
    pub name: Option<String>,
    pub parent_id: Option<UnitId>,
    pub detail: Option<String>,
    pub remote_was_deleted: i64,
    pub modified_at: i64,
}

/// The newest employment's job title of the person (employments are their own stream).
const JOB_TITLE: &str = "(SELECT j.job_title FROM employments j
      WHERE j.connection_id = e.connection_id AND j.employee_merge_id = e.merge_id AND j.remote_was_deleted = 0
      ORDER BY j.effective_date DESC, j.remote_id DESC LIMIT 1)";

const EMPLOYEE_COLUMNS: &str = "e.id, e.connection_id, e.remote_id, e.first_name, e.last_name,
    e.display_name, e.work_email, {JOB_TITLE} AS job_title, e.employment_status, e.start_date,
    e.termination_date, e.manager_id, e.team_id, e.location_id, e.active, e.remote_was_deleted,
    e.modified_at";

fn employee_columns() -> String {
    EMPLOYEE_COLUMNS.replace("{JOB_TITLE}", JOB_TITLE)
}

/// `$from, $from+1, ...` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which page of the directory to read.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Continue after this `(modified_at, id)` (keyset paging: stable while rows change).
    pub after: Option<(i64, String)>,
    pub limit: i64,
    pub modified_after: Option<i64>,
    pub include_inactive: bool,
}

impl Db {
    /// A page of the organization's directory in `(modified_at, id)` order.
    pub async fn employees_page(
        &self,
        org_id: &OrganizationId,
        q: &DirectoryQuery,
    ) -> StoreResult<Vec<EmployeeRecord>> {
        let (after_at, after_id) = q.after.clone().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(sql!(
            "SELECT {} FROM employees e
             WHERE e.org_id = $1 AND (e.modified_at > $2 OR (e.modified_at = $2 AND e.id > $3))
               AND e.modified_at > $4 AND ($5 = 1 OR e.active = 1)
             ORDER BY e.modified_at, e.id LIMIT $6",
            employee_columns()
        ))
        .bind(org_id)
        .bind(after_at)
        .bind(after_id)
        .bind(q.modified_after.unwrap_or(i64::MIN))
        .bind(i64::from(q.include_inactive))
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of the organization's teams or locations in `(modified_at, id)` order.
    pub async fn units_page(
        &self,
        org_id: &OrganizationId,
        kind: UnitKind,
        q: &DirectoryQuery,
    ) -> StoreResult<Vec<UnitRecord>> {
        let (after_at, after_id) = q.after.clone().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(
            "SELECT u.id, u.remote_id, u.name,
                 (SELECT p.id FROM directory_units p WHERE p.connection_id = u.connection_id
                    AND p.kind = u.kind AND p.merge_id = u.parent_merge_id) AS parent_id,
                 u.detail, u.remote_was_deleted, u.modified_at
             FROM directory_units u
             WHERE u.org_id = $1 AND u.kind = $2
               AND (u.modified_at > $3 OR (u.modified_at = $3 AND u.id > $4))
               AND u.modified_at > $5 AND ($6 = 1 OR u.remote_was_deleted = 0)
             ORDER BY u.modified_at, u.id LIMIT $7",
        )
        .bind(org_id)
        .bind(<&str>::from(kind))
        .bind(after_at)
        .bind(after_id)
        .bind(q.modified_after.unwrap_or(i64::MIN))
        .bind(i64::from(q.include_inactive))
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The names of some of the organization's units (a page's locations), by id.
    pub async fn unit_names(
        &self,
        org_id: &OrganizationId,
        ids: &[UnitId],
    ) -> StoreResult<Vec<(UnitId, Option<String>)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::query_as(sql!(
            "SELECT id, name FROM directory_units WHERE org_id = $1 AND id IN ({})",
            placeholders(2, ids.len())
        ))
        .bind(org_id);
        for id in ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// One person of the organization.
    pub async fn employee(
        &self,
        org_id: &OrganizationId,
        id: &EmployeeId,
    ) -> StoreResult<Option<EmployeeRecord>> {
        Ok(sqlx::query_as(sql!(
            "SELECT {} FROM employees e WHERE e.org_id = $1 AND e.id = $2",
            employee_columns()
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// How many people are in the organization's directory (active) and in all.
    pub async fn employee_counts(&self, org_id: &OrganizationId) -> StoreResult<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT), COUNT(*) FROM employees WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The organization's active people (id, work e-mail key, source, remote id), for a preview.
    pub async fn active_people(
        &self,
        org_id: &OrganizationId,
    ) -> StoreResult<Vec<(EmployeeId, Option<String>, ConnectionId, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, work_email_key, connection_id, remote_id FROM employees
             WHERE org_id = $1 AND active = 1 ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// How a page's upsert went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub added: i64,
    pub changed: i64,
}

impl Tx {
    /// Writes a page of people of the connection: new ones are inserted, changed ones (content hash)
    /// updated, a new provider id alone re-binds the row (a relink). `seen_by`: a full scan's run, which
    /// marks every record of the page as seen. `today` (`YYYY-MM-DD`) decides whether a new person
    /// with a termination date is in the directory.
    pub async fn upsert_employees(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        page: &[EmployeeData],
        seen_by: Option<&SyncRunId>,
        today: &str,
    ) -> StoreResult<PageCounts> {
        let mut counts = PageCounts::default();
        if page.is_empty() {
            return Ok(counts);
        }
        let now = now_ms();
        let existing = self
            .existing(
                "employees",
                "",
                org_id,
                connection_id,
                page.iter().map(|e| e.remote_id.as_str()),
            )
            .await?;
        let mut inserts = Vec::new();
        for e in page {
            let hash = content_hash(e);
            match existing.get(&e.remote_id) {
                None => inserts.push((e, hash)),
                Some((_, _, old_hash)) if *old_hash != hash => {
                    counts.changed += 1;
                    sqlx::query(
                        "UPDATE employees SET merge_id = $1, first_name = $2, last_name = $3,
                             display_name = $4, work_email = $5, work_email_key = $6,
                             employment_status = $7, start_date = $8, termination_date = $9,
                             manager_merge_id = $10, team_merge_id = $11, location_merge_id = $12,
                             remote_was_deleted = $13, content_hash = $14, remote_modified_at = $15,
                             kept = 0, modified_at = $16
                         WHERE org_id = $17 AND connection_id = $18 AND remote_id = $19",
                    )
                    .bind(&e.merge_id)
                    .bind(&e.first_name)
                    .bind(&e.last_name)
                    .bind(&e.display_name)
                    .bind(&e.work_email)
                    .bind(e.work_email.as_deref().map(str::to_lowercase))
                    .bind(&e.employment_status)
                    .bind(&e.start_date)
                    .bind(&e.termination_date)
                    .bind(&e.manager_merge_id)
                    .bind(&e.team_merge_id)
                    .bind(&e.location_merge_id)
                    .bind(i64::from(e.remote_was_deleted))
                    .bind(&hash)
                    .bind(&e.remote_modified_at)
                    .bind(now)
                    .bind(org_id)
                    .bind(connection_id)
                    .bind(&e.remote_id)
                    .execute(self.conn())
                    .await?;
                }
                Some((_, binding, _)) if *binding != e.binding() => {
                    self.rebind(
                        "employees",
                        "",
                        org_id,
                        connection_id,
                        &e.remote_id,
                        &[
                            ("merge_id", Some(&e.merge_id)),
                            ("manager_merge_id", e.manager_merge_id.as_deref()),
                            ("team_merge_id", e.team_merge_id.as_deref()),
                            ("location_merge_id", e.location_merge_id.as_deref()),
                        ],
                    )
                    .await?;
                }
                Some(_) => {}
            }
        }
        // New people in one statement per page (21 values a row).
        if !inserts.is_empty() {
            counts.added = inserts.len() as i64;
            let n = inserts.len() * 21;
            let sql_text = format!(
                "INSERT INTO employees (id, org_id, connection_id, remote_id, merge_id, first_name,
                     last_name, display_name, work_email, work_email_key, employment_status, start_date,
                     termination_date, manager_merge_id, team_merge_id, location_merge_id,
                     remote_was_deleted, content_hash, remote_modified_at, seen_run_id, active, created_at, modified_at)
                 VALUES {}",
                (0..inserts.len())
                    .map(|i| format!("({}, ${}, ${})", placeholders(i * 21 + 1, 21), n + 1, n + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql_text));
            for (e, hash) in &inserts {
                q = q
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(org_id)
                    .bind(connection_id)
                    .bind(&e.remote_id)
                    .bind(&e.merge_id)
                    .bind(&e.first_name)
                    .bind(&e.last_name)
                    .bind(&e.display_name)
                    .bind(&e.work_email)
                    .bind(e.work_email.as_deref().map(str::to_lowercase))
                    .bind(&e.employment_status)
                    .bind(&e.start_date)
                    .bind(&e.termination_date)
                    .bind(&e.manager_merge_id)
                    .bind(&e.team_merge_id)
                    .bind(&e.location_merge_id)
                    .bind(i64::from(e.remote_was_deleted))
                    .bind(hash.as_str())
                    .bind(&e.remote_modified_at)
                    .bind(seen_by)
                    .bind(i64::from(e.belongs_in_directory(today)));
            }
            q.bind(now).execute(self.conn()).await?;
        }
        if let Some(run) = seen_by {
            self.mark_seen(
                org_id,
                connection_id,
                run,
                page.iter().map(|e| e.remote_id.as_str()),
            )
            .await?;
        }
        Ok(counts)
    }
}

/// The tables whose rows are keyed by (organization, connection[, kind], remote id).
const KEYED_TABLES: [&str; 3] = ["employees", "employments", "directory_units"];

impl Tx {
    /// `remote_id -> (id or remote id, merge id, content hash)` of the page's records that exist.
    /// `kind`: the unit kind for `directory_units`, else empty.
    async fn existing<'a>(
        &mut self,
        table: &'static str,
        kind: &str,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        remote_ids: impl Iterator<Item = &'a str>,
    ) -> StoreResult<std::collections::HashMap<String, (String, String, String)>> {
        debug_assert!(KEYED_TABLES.contains(&table));
        let ids: Vec<&str> = remote_ids.collect();
        let key = if table == "employments" {
            "remote_id"
        } else {
            "id"
        };
        let mut q = sqlx::query_as::<_, (String, String, String, String)>(sql!(
            "SELECT remote_id, {key}, {binding}, content_hash FROM {table}
             WHERE org_id = $1 AND connection_id = $2 AND ($3 = '' OR {kind_col} = $3)
               AND remote_id IN ({})",
            placeholders(4, ids.len()),
            kind_col = if table == "directory_units" {
                "kind"
            } else {
                "''"
            },
            binding = binding_sql(table),
        ))
        .bind(org_id)
        .bind(connection_id)
        .bind(kind);
        for id in &ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.conn())
            .await?
            .into_iter()
            .map(|(remote, id, merge, hash)| (remote, (id, merge, hash)))
            .collect())
    }

    /// A record the provider now knows under other ids (a relinked account, a new manager): same
    /// row, new bindings. A person's resolved references are parked until the references phase.
    async fn rebind(
        &mut self,
        table: &'static str,
        kind: &str,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        remote_id: &str,
        columns: &[(&'static str, Option<&str>)],
    ) -> StoreResult<()> {
        debug_assert!(KEYED_TABLES.contains(&table));
        let n = columns.len();
        let set: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = ${}", i + 1))
            .collect();
        let parked = if table == "employees" {
            ", manager_id = NULL, team_id = NULL, location_id = NULL"
        } else {
            ""
        };
        let mut q = sqlx::query(sql!(
            "UPDATE {table} SET {}{parked}
             WHERE org_id = ${} AND connection_id = ${} AND remote_id = ${} AND (${} = '' OR {kind_col} = ${})",
            set.join(", "),
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 4,
            kind_col = if table == "directory_units" { "kind" } else { "''" },
        ));
        for (_, v) in columns {
            q = q.bind(*v);
        }
        q.bind(org_id)
            .bind(connection_id)
            .bind(remote_id)
            .bind(kind)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// A full scan saw these people: they are not missing.
    async fn mark_seen<'a>(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        run: &SyncRunId,
        remote_ids: impl Iterator<Item = &'a str>,
    ) -> StoreResult<()> {
        let ids: Vec<&str> = remote_ids.collect();
        let mut q = sqlx::query(sql!(
            "UPDATE employees SET seen_run_id = $1, missing_scans = 0
             WHERE org_id = $2 AND connection_id = $3 AND remote_id IN ({})",
            placeholders(4, ids.len())
        ))
        .bind(run)
        .bind(org_id)
        .bind(connection_id);
        for id in &ids {
            q = q.bind(*id);
        }
        q.execute(self.conn()).await?;
        Ok(())
    }

    /// Writes a page of employments; the people whose employments changed count as modified (their
    /// job title may have).
    pub async fn upsert_employments(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        page: &[EmploymentData],
    ) -> StoreResult<PageCounts> {
        let mut counts = PageCounts::default();
        if page.is_empty() {
            return Ok(counts);
        }
        let now = now_ms();
        let existing = self
            .existing(
                "employments",
                "",
                org_id,
                connection_id,
                page.iter().map(|e| e.remote_id.as_str()),
            )
            .await?;
        let mut touched = Vec::new();
        for e in page {
            let hash = content_hash(e);
            match existing.get(&e.remote_id) {
                Some((_, binding, old)) if *old == hash => {
                    if *binding != e.binding() {
                        self.rebind(
                            "employments",
                            "",
                            org_id,
                            connection_id,
                            &e.remote_id,
                            &[
                                ("merge_id", Some(&e.merge_id)),
                                ("employee_merge_id", e.employee_merge_id.as_deref()),
                            ],
                        )
                        .await?;
                    }
                    continue;
                }
                Some(_) => counts.changed += 1,
                None => counts.added += 1,
            }
            sqlx::query(
                "INSERT INTO employments (org_id, connection_id, remote_id, merge_id, employee_merge_id,
                     job_title, employment_type, effective_date, remote_was_deleted, content_hash, modified_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (org_id, connection_id, remote_id) DO UPDATE SET
                     merge_id = excluded.merge_id, employee_merge_id = excluded.employee_merge_id,
                     job_title = excluded.job_title, employment_type = excluded.employment_type,
                     effective_date = excluded.effective_date,
                     remote_was_deleted = excluded.remote_was_deleted,
                     content_hash = excluded.content_hash, modified_at = excluded.modified_at",
            )
            .bind(org_id)
            .bind(connection_id)
            .bind(&e.remote_id)
            .bind(&e.merge_id)
            .bind(&e.employee_merge_id)
            .bind(&e.job_title)
            .bind(&e.employment_type)
            .bind(&e.effective_date)
            .bind(i64::from(e.remote_was_deleted))
            .bind(&hash)
            .bind(now)
            .execute(self.conn())
            .await?;
            if let Some(emp) = &e.employee_merge_id {
                touched.push(emp.as_str());
            }
        }
        if !touched.is_empty() {
            // By (connection, Merge id) only: with the organization in the condition too, the
            // planners may walk the (org, connection, remote id) index over all the connection's
            // people on every page (quadratic in a full sync).
            let mut q = sqlx::query(sql!(
                "UPDATE employees SET modified_at = $1
                 WHERE connection_id = $2 AND merge_id IN ({})",
                placeholders(3, touched.len())
            ))
            .bind(now)
            .bind(connection_id);
            for id in &touched {
                q = q.bind(*id);
            }
            q.execute(self.conn()).await?;
        }
        Ok(counts)
    }

    /// Writes a page of teams, locations or groups.
    pub async fn upsert_units(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        kind: UnitKind,
        page: &[UnitData],
    ) -> StoreResult<PageCounts> {
        let mut counts = PageCounts::default();
        if page.is_empty() {
            return Ok(counts);
        }
        let now = now_ms();
        let kind_name: &str = kind.into();
        let existing = self
            .existing(
                "directory_units",
                kind_name,
                org_id,
                connection_id,
                page.iter().map(|u| u.remote_id.as_str()),
            )
            .await?;
        for u in page {
            let hash = content_hash(u);
            match existing.get(&u.remote_id) {
                Some((_, binding, old)) if *old == hash => {
                    if *binding != u.binding() {
                        self.rebind(
                            "directory_units",
                            kind_name,
                            org_id,
                            connection_id,
                            &u.remote_id,
                            &[
                                ("merge_id", Some(&u.merge_id)),
                                ("parent_merge_id", u.parent_merge_id.as_deref()),
                            ],
                        )
                        .await?;
                    }
                    continue;
                }
                Some(_) => counts.changed += 1,
                None => counts.added += 1,
            }
            sqlx::query(
                "INSERT INTO directory_units (id, org_id, connection_id, kind, remote_id, merge_id, name,
                     parent_merge_id, detail, remote_was_deleted, content_hash, modified_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (org_id, connection_id, kind, remote_id) DO UPDATE SET
                     merge_id = excluded.merge_id, name = excluded.name,
                     parent_merge_id = excluded.parent_merge_id, detail = excluded.detail,
                     remote_was_deleted = excluded.remote_was_deleted,
                     content_hash = excluded.content_hash, modified_at = excluded.modified_at",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(org_id)
            .bind(connection_id)
            .bind(kind_name)
            .bind(&u.remote_id)
            .bind(&u.merge_id)
            .bind(&u.name)
            .bind(&u.parent_merge_id)
            .bind(&u.detail)
            .bind(i64::from(u.remote_was_deleted))
            .bind(&hash)
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        Ok(counts)
    }

    /// The references phase: resolves managers, teams and locations to our ids for the people
    /// written since `since` (or all of the connection's people: `since = i64::MIN`) and for those
    /// whose references were parked (not resolvable when written). Returns how many changed.
    pub async fn resolve_references(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        since: i64,
    ) -> StoreResult<u64> {
        const MANAGER: &str =
            "(SELECT m.id FROM employees m WHERE m.connection_id = employees.connection_id
              AND m.merge_id = employees.manager_merge_id)";
        const TEAM: &str =
            "(SELECT u.id FROM directory_units u WHERE u.connection_id = employees.connection_id
              AND u.kind = 'team' AND u.merge_id = employees.team_merge_id)";
        const LOCATION: &str =
            "(SELECT u.id FROM directory_units u WHERE u.connection_id = employees.connection_id
              AND u.kind = 'location' AND u.merge_id = employees.location_merge_id)";
        let done = sqlx::query(sql!(
            "UPDATE employees SET manager_id = {MANAGER}, team_id = {TEAM}, location_id = {LOCATION},
                 modified_at = $1
             WHERE org_id = $2 AND connection_id = $3
               AND (modified_at >= $4
                    OR (manager_merge_id IS NOT NULL AND manager_id IS NULL)
                    OR (team_merge_id IS NOT NULL AND team_id IS NULL)
                    OR (location_merge_id IS NOT NULL AND location_id IS NULL))
               AND (COALESCE(manager_id, '') <> COALESCE({MANAGER}, '')
                    OR COALESCE(team_id, '') <> COALESCE({TEAM}, '')
                    OR COALESCE(location_id, '') <> COALESCE({LOCATION}, ''))"
        ))
        .bind(now_ms())
        .bind(org_id)
        .bind(connection_id)
        .bind(since)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    /// After a complete full scan that ended DONE: the connection's people it did not see count one
    /// more missing scan.
    pub async fn count_missing(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        run: &SyncRunId,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE employees SET missing_scans = missing_scans + 1
             WHERE org_id = $1 AND connection_id = $2 AND COALESCE(seen_run_id, '') <> $3",
        )
        .bind(org_id)
        .bind(connection_id)
        .bind(run)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The connection's people in the directory who should leave it as of `today` (`YYYY-MM-DD`),
    /// with why; those an admin chose to keep are not among them.
    pub async fn removal_candidates(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        today: &str,
    ) -> StoreResult<Vec<(EmployeeId, RemovalReason)>> {
        let rows: Vec<(EmployeeId, String)> = sqlx::query_as(
            "SELECT id, CASE WHEN remote_was_deleted = 1 THEN 'deleted'
                             WHEN missing_scans >= 2 THEN 'missing' ELSE 'terminated' END
             FROM employees
             WHERE org_id = $1 AND connection_id = $2 AND active = 1 AND kept = 0
               AND (remote_was_deleted = 1 OR missing_scans >= 2 OR employment_status = 'INACTIVE'
                    OR (termination_date IS NOT NULL AND termination_date <= $3))
             ORDER BY id",
        )
        .bind(org_id)
        .bind(connection_id)
        .bind(today)
        .fetch_all(self.conn())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, r)| {
                let reason = r.parse().unwrap_or(RemovalReason::Terminated);
                (id, reason)
            })
            .collect())
    }

    /// How many people of the organization are in the directory.
    pub async fn active_employee_count(&mut self, org_id: &OrganizationId) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM employees WHERE org_id = $1 AND active = 1")
                .bind(org_id)
                .fetch_one(self.conn())
                .await?,
        )
    }

    /// Takes these people out of the directory (they stay, inactive). Returns how many left it.
    pub async fn deactivate_employees(
        &mut self,
        org_id: &OrganizationId,
        ids: &[EmployeeId],
    ) -> StoreResult<i64> {
        let now = now_ms();
        let mut n = 0;
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query(sql!(
                "UPDATE employees SET active = 0, modified_at = $1
                 WHERE org_id = $2 AND active = 1 AND id IN ({})",
                placeholders(3, chunk.len())
            ))
            .bind(now)
            .bind(org_id);
            for id in chunk {
                q = q.bind(id);
            }
            n += q.execute(self.conn()).await?.rows_affected() as i64;
        }
        Ok(n)
    }

    /// "Keep everyone": these people stay, and are not proposed again until their record changes.
    pub async fn keep_employees(
        &mut self,
        org_id: &OrganizationId,
        ids: &[EmployeeId],
    ) -> StoreResult<()> {
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query(sql!(
                "UPDATE employees SET kept = 1 WHERE org_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            ))
            .bind(org_id);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// People of the connection out of the directory whose record says they are back (a rehire, a
    /// record that reappeared): in again. Returns how many.
    pub async fn reactivate_returning(
        &mut self,
        org_id: &OrganizationId,
        connection_id: &ConnectionId,
        today: &str,
    ) -> StoreResult<i64> {
        Ok(sqlx::query(
            "UPDATE employees SET active = 1, modified_at = $1
             WHERE org_id = $2 AND connection_id = $3 AND active = 0 AND remote_was_deleted = 0
               AND missing_scans < 2 AND COALESCE(employment_status, 'ACTIVE') <> 'INACTIVE'
               AND (termination_date IS NULL OR termination_date > $4)",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(connection_id)
        .bind(today)
        .execute(self.conn())
        .await?
        .rows_affected() as i64)
    }

    /// Switching source: the person `id` is now the new connection's record `remote_id`/`merge_id`
    /// (same id for the platform). Its content hash is cleared so the first sync writes it fully.
    pub async fn rebind_employee(
        &mut self,
        org_id: &OrganizationId,
        id: &EmployeeId,
        connection_id: &ConnectionId,
        remote_id: &str,
        merge_id: &str,
    ) -> StoreResult<()> {
        super::one_row(
            sqlx::query(
                "UPDATE employees SET connection_id = $1, remote_id = $2, merge_id = $3,
                     content_hash = '', missing_scans = 0, modified_at = $4
                 WHERE org_id = $5 AND id = $6",
            )
            .bind(connection_id)
            .bind(remote_id)
            .bind(merge_id)
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .execute(self.conn())
            .await?,
        )
    }
}

/// The counts of a page's upserts, as a run counts them.
impl From<PageCounts> for RunCounts {
    fn from(p: PageCounts) -> Self {
        RunCounts {
            added: p.added,
            changed: p.changed,
            ..RunCounts::default()
        }
    }
}
