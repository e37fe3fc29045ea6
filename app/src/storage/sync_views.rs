//! Reads of the sync for the admin's page (issue 14): the people a held run would remove, and the
//! directory in name order with search, keyset-paged on `(name key, id)` (migration 0008 indexes
//! it), so the 1,000th page costs what the first does.

use super::{Db, StoreError, StoreResult};
use crate::model::{EmployeeId, OrganizationId, PeopleFilter, SyncRunId};

/// How the directory sorts and searches names: lower case, the display name, else first and last.
/// The same text as the indexes of migration 0008 (an expression index serves only its expression).
pub const NAME_KEY: &str = "lower(COALESCE(e.display_name, TRIM(COALESCE(e.first_name, '') || ' ' || COALESCE(e.last_name, ''))))";

/// A held person as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldRow {
    pub name: String,
    pub work_email: Option<String>,
    pub team: Option<String>,
    pub last_seen_at: i64,
    pub reason: String,
}

/// A person of the directory as the page lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    pub id: EmployeeId,
    pub name_key: String,
    pub name: String,
    pub work_email: Option<String>,
    pub job_title: Option<String>,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub location: Option<String>,
    pub active: i64,
    pub modified_at: i64,
}

/// Which page of the directory to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Lower-case start of a name or of a work e-mail address; empty: everyone.
    pub search: String,
    pub filter: PeopleFilter,
    /// Continue after this `(name key, id)`.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// `s` with LIKE's wildcards escaped (escape character `\`).
fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The first text after every text that starts with `s` (its last character moved up by one), for
/// a range an index can serve; `None` when there is none.
fn successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl Db {
    /// The people run `run_id` would remove (at most `limit`, by name), with why and when last seen.
    pub async fn held_people(&self, run_id: &SyncRunId, limit: i64) -> StoreResult<Vec<HeldRow>> {
        Ok(sqlx::query_as(sql!(
            "SELECT COALESCE(e.display_name, TRIM(COALESCE(e.first_name, '') || ' ' || COALESCE(e.last_name, ''))) AS name,
                 e.work_email,
                 (SELECT t.name FROM directory_units t WHERE t.id = e.team_id) AS team,
                 COALESCE((SELECT r.started_at FROM sync_runs r WHERE r.id = e.seen_run_id), e.modified_at) AS last_seen_at,
                 h.reason
             FROM sync_held_removals h JOIN employees e ON e.id = h.employee_id
             WHERE h.run_id = $1
             ORDER BY {NAME_KEY}, e.id LIMIT $2"
        ))
        .bind(run_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether the organization has a preview `id` (open or not).
    pub async fn preview_exists(
        &self,
        org_id: &OrganizationId,
        id: &crate::model::PreviewId,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM source_previews WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// A page of the organization's directory in name order.
    pub async fn directory_people(
        &self,
        org_id: &OrganizationId,
        q: &PeopleQuery,
    ) -> StoreResult<Vec<PersonRow>> {
        // Only fixed SQL text is assembled here; every value is bound, numbered as it is added.
        let mut filters = vec!["e.org_id = $1".to_string()];
        let mut values: Vec<String> = Vec::new();
        let next = |v: String, values: &mut Vec<String>| {
            values.push(v);
            format!("${}", values.len() + 1)
        };
        match q.filter {
            PeopleFilter::Active => filters.push("e.active = 1".into()),
            PeopleFilter::Inactive => filters.push("e.active = 0".into()),
            PeopleFilter::All => {}
        }
        if !q.search.is_empty() {
            let lo = next(q.search.clone(), &mut values);
            let hi = next(
                successor(&q.search).unwrap_or_else(|| q.search.clone()),
                &mut values,
            );
            let like = next(format!("{}%", like_escaped(&q.search)), &mut values);
            filters.push(format!(
                "(({NAME_KEY} >= {lo} AND {NAME_KEY} < {hi} AND {NAME_KEY} LIKE {like} ESCAPE '\\')
                  OR (e.work_email_key >= {lo} AND e.work_email_key < {hi} AND e.work_email_key LIKE {like} ESCAPE '\\'))"
            ));
        }
        if let Some((key, id)) = &q.after {
            let key = next(key.clone(), &mut values);
            let id = next(id.clone(), &mut values);
            filters.push(format!(
                "({NAME_KEY} > {key} OR ({NAME_KEY} = {key} AND e.id > {id}))"
            ));
        }
        let limit = format!("${}", values.len() + 2);
        let job_title = "(SELECT j.job_title FROM employments j
              WHERE j.connection_id = e.connection_id AND j.employee_merge_id = e.merge_id AND j.remote_was_deleted = 0
              ORDER BY j.effective_date DESC, j.remote_id DESC LIMIT 1)";
        let sql = sql!(
            "SELECT e.id, {NAME_KEY} AS name_key,
                 COALESCE(e.display_name, TRIM(COALESCE(e.first_name, '') || ' ' || COALESCE(e.last_name, ''))) AS name,
                 e.work_email, {job_title} AS job_title,
                 (SELECT t.name FROM directory_units t WHERE t.id = e.team_id) AS team,
                 (SELECT COALESCE(m.display_name, TRIM(COALESCE(m.first_name, '') || ' ' || COALESCE(m.last_name, '')))
                    FROM employees m WHERE m.id = e.manager_id) AS manager,
                 (SELECT l.name FROM directory_units l WHERE l.id = e.location_id) AS location,
                 e.active, e.modified_at
             FROM employees e
             WHERE {}
             ORDER BY {NAME_KEY}, e.id LIMIT {limit}",
            filters.join(" AND ")
        );
        let mut query = sqlx::query_as(sql).bind(org_id);
        for v in values {
            query = query.bind(v);
        }
        let rows: Vec<PersonRow> = query.bind(q.limit).fetch_all(&self.pool).await?;
        Ok(rows)
    }
}

/// Reads a stored removal reason.
pub fn removal_reason(s: &str) -> StoreResult<crate::storage::RemovalReason> {
    s.parse()
        .map_err(|_| StoreError::Db(sqlx::Error::Decode(format!("reason {s:?}").into())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_prefix_range_ends_after_every_text_that_starts_with_it() {
        assert_eq!(super::successor("ann").as_deref(), Some("ano"));
        assert_eq!(super::successor("a.b@").as_deref(), Some("a.bA"));
        assert_eq!(super::successor("").as_deref(), None);
        assert_eq!(super::like_escaped("50%_a\\"), "50\\%\\_a\\\\");
    }
}
