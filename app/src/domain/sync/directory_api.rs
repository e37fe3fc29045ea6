//! The directory API for the host platform (`GET /v1/employees`, `/v1/teams`, `/v1/locations`):
//! who may read (a host token with `read_directory`, for its own organization only), what the query
//! means, the opaque cursor, and the JSON each record becomes. The server's routes
//! (`server/src/host_api.rs`) only hand the request's parts in here and write the answer out.
//!
//! Paging is keyset paging by `(modified_at, id)` ([`crate::storage::DirectoryQuery`]): a record
//! changed while a client pages moves behind the cursor and is served again later, so a client that
//! reads to the end sees every record's latest state, with no gaps.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{
    auth::host::{HostTokenError, HostTokenVerifier},
    model::{EmployeeId, OrganizationId, UnitId},
    storage::{Db, DirectoryQuery, EmployeeRecord, UnitKind, UnitRecord},
};

/// Records per page unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: i64 = 100;
/// Most records per page.
pub const MAX_PAGE_SIZE: i64 = 500;
/// Longest accepted cursor (characters); ours are far shorter.
const MAX_CURSOR_LEN: usize = 512;

/// Why a directory request was refused. `Unauthorized`'s reason is logged, never answered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryError {
    /// No host-token key is configured: the API is off.
    #[error("the directory API is not enabled")]
    NotEnabled,
    #[error("unauthorized: {0}")]
    Unauthorized(Refusal),
    /// A query parameter that does not parse; the message says what is expected.
    #[error("invalid {parameter}: {message}")]
    InvalidParameter {
        parameter: &'static str,
        message: String,
    },
    #[error("internal error")]
    Internal,
}

/// Why a caller was not let in.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("no bearer token")]
    Missing,
    #[error("{0}")]
    Token(#[from] HostTokenError),
}

/// The JSON of an error answer.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<&'static str>,
}

impl DirectoryError {
    pub fn status(&self) -> u16 {
        match self {
            DirectoryError::NotEnabled => 404,
            DirectoryError::Unauthorized(_) => 401,
            DirectoryError::InvalidParameter { .. } => 400,
            DirectoryError::Internal => 500,
        }
    }

    /// What the caller is told: never why a token failed, never an internal error's text.
    pub fn body(&self) -> ErrorBody {
        let (error, message, parameter) = match self {
            DirectoryError::NotEnabled => ("not_found", "not found".to_string(), None),
            DirectoryError::Unauthorized(_) => (
                "unauthorized",
                "a valid bearer token of the host platform with the read_directory permission is required"
                    .to_string(),
                None,
            ),
            DirectoryError::InvalidParameter { parameter, message } => {
                ("invalid_request", message.clone(), Some(*parameter))
            }
            DirectoryError::Internal => ("internal", "internal error".to_string(), None),
        };
        ErrorBody {
            error,
            message,
            parameter,
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750: no error code when no token was sent).
    pub fn challenge(&self) -> Option<&'static str> {
        match self {
            DirectoryError::Unauthorized(Refusal::Missing) => {
                Some(r#"Bearer realm="hris-connect""#)
            }
            DirectoryError::Unauthorized(_) => {
                Some(r#"Bearer realm="hris-connect", error="invalid_token""#)
            }
            _ => None,
        }
    }
}

impl From<crate::storage::StoreError> for DirectoryError {
    fn from(e: crate::storage::StoreError) -> Self {
        tracing::error!(error = %e, "directory API storage failure");
        DirectoryError::Internal
    }
}

/// The organization a request may read: its `Authorization: Bearer` token must verify as a
/// directory token ([`HostTokenVerifier::verify_directory`]). `None` verifier: the API is off.
pub fn authorize(
    verifier: Option<&HostTokenVerifier>,
    authorization: Option<&str>,
    now_secs: i64,
) -> Result<OrganizationId, DirectoryError> {
    let verifier = verifier.ok_or(DirectoryError::NotEnabled)?;
    let token = authorization
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(DirectoryError::Unauthorized(Refusal::Missing))?;
    verifier
        .verify_directory(token, now_secs)
        .map_err(|e| DirectoryError::Unauthorized(Refusal::Token(e)))
}

/// Which list a cursor belongs to (a cursor of one list is refused by another).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Employees,
    Teams,
    Locations,
}

impl List {
    fn tag(self) -> &'static str {
        match self {
            List::Employees => "e",
            List::Teams => "t",
            List::Locations => "l",
        }
    }
}

/// A position in a list: after the record with this `(modified_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub modified_at: i64,
    pub id: String,
}

impl Cursor {
    /// Opaque to clients: base64url of `[list, modified_at, id]` as JSON.
    pub fn encode(&self, list: List) -> String {
        let json = serde_json::json!([list.tag(), self.modified_at, self.id]).to_string();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str, list: List) -> Result<Cursor, DirectoryError> {
        let bad = || DirectoryError::InvalidParameter {
            parameter: "cursor",
            message:
                "cursor is not a cursor of this list (pass `next` of a previous page as it is)"
                    .into(),
        };
        if text.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let (tag, modified_at, id): (String, i64, String) =
            serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if tag != list.tag() || id.is_empty() || id.len() > 200 {
            return Err(bad());
        }
        Ok(Cursor { modified_at, id })
    }
}

/// The query string as sent (every value text, so a bad one gets a clear message).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    cursor: Option<String>,
    page_size: Option<String>,
    modified_after: Option<String>,
    include_inactive: Option<String>,
}

/// A list request's parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub cursor: Option<Cursor>,
    pub page_size: i64,
    /// Milliseconds since the epoch: only records changed after this.
    pub modified_after: Option<i64>,
    pub include_inactive: bool,
}

impl ListParams {
    /// Parses `cursor`, `page_size` (1..=500, default 100), `modified_after` (RFC 3339) and
    /// `include_inactive` (`true`/`false`, default false). Unknown or repeated parameters are refused.
    pub fn from_query(query: Option<&str>, list: List) -> Result<ListParams, DirectoryError> {
        let raw: RawParams = serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
            DirectoryError::InvalidParameter {
                parameter: "query",
                message: format!(
                    "the query is not understood ({e}); parameters are cursor, page_size, modified_after, include_inactive"
                ),
            }
        })?;
        let page_size = match raw.page_size.as_deref() {
            None => DEFAULT_PAGE_SIZE,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| DirectoryError::InvalidParameter {
                    parameter: "page_size",
                    message: format!("page_size must be an integer from 1 to {MAX_PAGE_SIZE}"),
                })?,
        };
        let modified_after = raw
            .modified_after
            .as_deref()
            .map(|v| {
                OffsetDateTime::parse(v.trim(), &Rfc3339)
                    .map(|t| {
                        // Whole milliseconds, rounded down: `modified_at > t` of a record's whole
                        // milliseconds is then exact.
                        (t.unix_timestamp_nanos().div_euclid(1_000_000)) as i64
                    })
                    .map_err(|_| DirectoryError::InvalidParameter {
                        parameter: "modified_after",
                        message:
                            "modified_after must be an RFC 3339 time such as 2026-01-31T09:30:00Z"
                                .into(),
                    })
            })
            .transpose()?;
        let include_inactive = match raw.include_inactive.as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(DirectoryError::InvalidParameter {
                    parameter: "include_inactive",
                    message: "include_inactive must be true or false".into(),
                })
            }
        };
        let cursor = raw
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c.trim(), list))
            .transpose()?;
        Ok(ListParams {
            cursor,
            page_size,
            modified_after,
            include_inactive,
        })
    }

    /// The storage query: one record more than a page, to know whether another page follows.
    fn query(&self) -> DirectoryQuery {
        DirectoryQuery {
            after: self.cursor.clone().map(|c| (c.modified_at, c.id)),
            limit: self.page_size + 1,
            modified_after: self.modified_after,
            include_inactive: self.include_inactive,
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next: Option<String>,
    pub results: Vec<T>,
}

/// Cuts the extra record off and makes the cursor of the next page.
fn page<R, T>(
    mut rows: Vec<R>,
    params: &ListParams,
    list: List,
    key: impl Fn(&R) -> Cursor,
    json: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > params.page_size;
    rows.truncate(params.page_size as usize);
    let next = more
        .then(|| rows.last().map(|r| key(r).encode(list)))
        .flatten();
    Page {
        next,
        results: rows.into_iter().map(json).collect(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since the epoch.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A unit's id and name (an employee's location).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRef {
    pub id: UnitId,
    pub name: Option<String>,
}

/// A person as the host platform reads them. Ids are ours: stable across relinks and sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmployeeJson {
    pub id: EmployeeId,
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
    pub team_ids: Vec<UnitId>,
    pub location: Option<UnitRef>,
    pub active: bool,
    pub modified_at: String,
}

impl EmployeeJson {
    fn new(e: EmployeeRecord, location: Option<UnitRef>) -> Self {
        EmployeeJson {
            id: e.id,
            remote_id: e.remote_id,
            first_name: e.first_name,
            last_name: e.last_name,
            display_name: e.display_name,
            work_email: e.work_email,
            job_title: e.job_title,
            employment_status: e.employment_status,
            start_date: e.start_date,
            termination_date: e.termination_date,
            manager_id: e.manager_id,
            team_ids: e.team_id.into_iter().collect(),
            location,
            active: e.active == 1,
            modified_at: rfc3339_ms(e.modified_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamJson {
    pub id: UnitId,
    pub remote_id: String,
    pub name: Option<String>,
    pub parent_id: Option<UnitId>,
    /// False once the source deleted it (listed with `include_inactive=true` only).
    pub active: bool,
    pub modified_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationJson {
    pub id: UnitId,
    pub remote_id: String,
    pub name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub active: bool,
    pub modified_at: String,
}

fn unit_key(u: &UnitRecord) -> Cursor {
    Cursor {
        modified_at: u.modified_at,
        id: u.id.to_string(),
    }
}

/// A page of the organization's people (active ones unless `include_inactive`).
pub async fn employees(
    db: &Db,
    org_id: &OrganizationId,
    params: &ListParams,
) -> Result<Page<EmployeeJson>, DirectoryError> {
    let rows = db.employees_page(org_id, &params.query()).await?;
    let mut ids: Vec<UnitId> = rows.iter().filter_map(|e| e.location_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let names: std::collections::HashMap<UnitId, Option<String>> =
        db.unit_names(org_id, &ids).await?.into_iter().collect();
    Ok(page(
        rows,
        params,
        List::Employees,
        |e| Cursor {
            modified_at: e.modified_at,
            id: e.id.to_string(),
        },
        |mut e| {
            let location = e.location_id.take().map(|id| UnitRef {
                name: names.get(&id).cloned().flatten(),
                id,
            });
            EmployeeJson::new(e, location)
        },
    ))
}

/// A page of the organization's teams.
pub async fn teams(
    db: &Db,
    org_id: &OrganizationId,
    params: &ListParams,
) -> Result<Page<TeamJson>, DirectoryError> {
    let rows = db
        .units_page(org_id, UnitKind::Team, &params.query())
        .await?;
    Ok(page(rows, params, List::Teams, unit_key, |u| TeamJson {
        id: u.id,
        remote_id: u.remote_id,
        name: u.name,
        parent_id: u.parent_id,
        active: u.remote_was_deleted == 0,
        modified_at: rfc3339_ms(u.modified_at),
    }))
}

/// A page of the organization's locations.
pub async fn locations(
    db: &Db,
    org_id: &OrganizationId,
    params: &ListParams,
) -> Result<Page<LocationJson>, DirectoryError> {
    let rows = db
        .units_page(org_id, UnitKind::Location, &params.query())
        .await?;
    Ok(page(rows, params, List::Locations, unit_key, |u| {
        let detail: serde_json::Value = u
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        let text = |k: &str| detail.get(k).and_then(|v| v.as_str()).map(str::to_string);
        LocationJson {
            city: text("city"),
            country: text("country"),
            id: u.id,
            remote_id: u.remote_id,
            name: u.name,
            active: u.remote_was_deleted == 0,
            modified_at: rfc3339_ms(u.modified_at),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<ListParams, DirectoryError> {
        ListParams::from_query(Some(q), List::Employees)
    }

    fn invalid(q: &str) -> &'static str {
        match parse(q) {
            Err(DirectoryError::InvalidParameter { parameter, .. }) => parameter,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_limits_of_the_query() {
        let p = ListParams::from_query(None, List::Employees).unwrap();
        assert_eq!(
            p,
            ListParams {
                cursor: None,
                page_size: 100,
                modified_after: None,
                include_inactive: false
            }
        );
        assert_eq!(parse("page_size=1").unwrap().page_size, 1);
        assert_eq!(parse("page_size=500").unwrap().page_size, 500);
        for bad in [
            "page_size=0",
            "page_size=501",
            "page_size=-1",
            "page_size=ten",
            "page_size=",
        ] {
            assert_eq!(invalid(bad), "page_size", "{bad}");
        }
        assert!(parse("include_inactive=true").unwrap().include_inactive);
        assert!(!parse("include_inactive=false").unwrap().include_inactive);
        assert_eq!(invalid("include_inactive=yes"), "include_inactive");
        assert_eq!(
            invalid("pagesize=10"),
            "query",
            "unknown parameters are refused"
        );
        assert_eq!(invalid("page_size=10&page_size=20"), "query");
    }

    #[test]
    fn modified_after_is_rfc3339_in_whole_milliseconds() {
        assert_eq!(
            parse("modified_after=1970-01-01T00:00:01.5009Z")
                .unwrap()
                .modified_after,
            Some(1500)
        );
        assert_eq!(
            parse("modified_after=2026-01-31T10:30:00%2B01:00")
                .unwrap()
                .modified_after,
            Some(1_769_851_800_000)
        );
        assert_eq!(invalid("modified_after=2026-01-31"), "modified_after");
        assert_eq!(invalid("modified_after=yesterday"), "modified_after");
        assert_eq!(rfc3339_ms(1_769_851_800_123), "2026-01-31T09:30:00.123Z");
        // What we print parses back to the same instant.
        let printed = rfc3339_ms(1_769_851_800_123);
        assert_eq!(
            parse(&format!("modified_after={printed}"))
                .unwrap()
                .modified_after,
            Some(1_769_851_800_123)
        );
    }

    #[test]
    fn cursors_round_trip_and_malformed_ones_are_refused() {
        let c = Cursor {
            modified_at: 1_769_851_800_123,
            id: "emp_01".into(),
        };
        let text = c.encode(List::Employees);
        assert!(!text.contains("emp_01"), "opaque: {text}");
        assert_eq!(Cursor::decode(&text, List::Employees).unwrap(), c);
        assert_eq!(
            parse(&format!("cursor={text}")).unwrap().cursor,
            Some(c.clone())
        );
        // A teams cursor is not an employees cursor.
        assert!(Cursor::decode(&c.encode(List::Teams), List::Employees).is_err());
        for bad in [
            "junk!",
            "",
            "bm90IGpzb24",
            &URL_SAFE_NO_PAD.encode(r#"["e","1","x"]"#),
            &URL_SAFE_NO_PAD.encode(r#"["e",1,""]"#),
            &"A".repeat(MAX_CURSOR_LEN + 1),
        ] {
            assert!(Cursor::decode(bad, List::Employees).is_err(), "{bad}");
        }
        assert_eq!(invalid("cursor=%%%"), "cursor");
        assert_eq!(invalid("cursor=bm90IGpzb24"), "cursor");
    }

    #[test]
    fn a_page_knows_whether_another_follows() {
        let params = ListParams {
            page_size: 2,
            ..parse("").unwrap()
        };
        let key = |n: &i64| Cursor {
            modified_at: *n,
            id: n.to_string(),
        };
        let full = page(vec![1, 2, 3], &params, List::Teams, key, |n| n);
        assert_eq!(full.results, vec![1, 2]);
        let next = Cursor::decode(full.next.as_deref().unwrap(), List::Teams).unwrap();
        assert_eq!(next, key(&2));
        let last = page(vec![1, 2], &params, List::Teams, key, |n| n);
        assert_eq!((last.results.len(), last.next), (2, None));
    }

    #[test]
    fn tokens_come_as_bearer_and_the_reason_is_not_told() {
        assert_eq!(
            authorize(None, Some("Bearer x"), 0),
            Err(DirectoryError::NotEnabled)
        );
        let v = HostTokenVerifier::new(
            crate::auth::host::HostKey::Secret(vec![7; 32]),
            "https://shell.example.com",
            "hris-connect",
        )
        .unwrap();
        for header in [
            None,
            Some(""),
            Some("Bearer "),
            Some("Basic abc"),
            Some("token"),
        ] {
            let e = authorize(Some(&v), header, 0).unwrap_err();
            assert_eq!(
                e,
                DirectoryError::Unauthorized(Refusal::Missing),
                "{header:?}"
            );
            assert_eq!(e.challenge(), Some(r#"Bearer realm="hris-connect""#));
        }
        let e = authorize(Some(&v), Some("bearer not.a.token"), 0).unwrap_err();
        assert!(matches!(e, DirectoryError::Unauthorized(Refusal::Token(_))));
        assert_eq!(e.status(), 401);
        assert!(e.challenge().unwrap().contains("invalid_token"));
        assert!(!e.body().message.contains("malformed"));
    }
}
