//! Merge's JSON as the sandbox sends it, written from Merge's published wire shapes
//! (`/work/shared/reference/merge-wire.md`, read from Merge's Node SDK), not from the client's
//! types: a field the client misreads is then a field the sandbox does not mirror.
//!
//! Only what the sandbox answers with is here, so only `Serialize`. Optional fields are sent as
//! `null`, as Merge sends them; relations are ids unless asked for with `expand`.

use serde::Serialize;
use serde_json::Value;

/// A linked account's status (`AccountDetailsAndActionsStatusEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkStatus {
    Complete,
    Incomplete,
    RelinkNeeded,
    Idle,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Complete => "COMPLETE",
            LinkStatus::Incomplete => "INCOMPLETE",
            LinkStatus::RelinkNeeded => "RELINK_NEEDED",
            LinkStatus::Idle => "IDLE",
        }
    }
}

/// A relation: the related record's id, or the record itself when expanded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

/// `Paginated…List`: `{next, previous, results}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paginated<T> {
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// `LinkToken`, the answer of `POST /hris/v1/link-token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkToken {
    pub link_token: String,
    pub integration_name: Option<String>,
    pub magic_link_url: Option<String>,
}

/// `AccountIntegration`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountIntegration {
    pub name: String,
    pub abbreviated_name: Option<String>,
    pub categories: Option<Vec<String>>,
    pub image: Option<String>,
    pub square_image: Option<String>,
    pub color: Option<String>,
    pub slug: Option<String>,
    pub api_endpoints_to_documentation_urls: Option<Value>,
    pub webhook_setup_guide_url: Option<String>,
    pub category_beta_status: Option<Value>,
}

/// `AccountToken`, the answer of `GET /hris/v1/account-token/{public_token}`.
#[derive(Clone, PartialEq, Serialize)]
pub struct AccountToken {
    pub account_token: String,
    pub integration: AccountIntegration,
    pub id: String,
}

impl std::fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountToken")
            .field("id", &self.id)
            .field("account_token", &"<redacted>")
            .finish()
    }
}

/// `AccountDetails`, the answer of `GET /hris/v1/account-details` and the `linked_account` of
/// webhook payloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDetails {
    pub id: Option<String>,
    pub integration: Option<String>,
    pub integration_slug: Option<String>,
    pub category: Option<String>,
    pub end_user_origin_id: Option<String>,
    pub end_user_organization_name: Option<String>,
    pub end_user_email_address: Option<String>,
    pub status: Option<String>,
    pub webhook_listener_url: Option<String>,
    pub is_duplicate: Option<bool>,
    pub account_type: Option<String>,
    pub completed_at: Option<String>,
}

/// `AccountDetailsAndActions`, an item of `GET /hris/v1/linked-accounts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountDetailsAndActions {
    pub id: String,
    pub category: Option<String>,
    pub status: LinkStatus,
    pub status_detail: Option<String>,
    pub end_user_origin_id: Option<String>,
    pub end_user_organization_name: String,
    pub end_user_email_address: String,
    pub subdomain: Option<String>,
    pub webhook_listener_url: String,
    pub is_duplicate: Option<bool>,
    pub integration: Option<AccountDetailsAndActionsIntegration>,
    pub account_type: String,
    pub completed_at: String,
    pub integration_specific_fields: Option<Value>,
}

/// `AccountDetailsAndActionsIntegration`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountDetailsAndActionsIntegration {
    pub name: String,
    pub categories: Vec<String>,
    pub image: Option<String>,
    pub square_image: Option<String>,
    pub color: String,
    pub slug: String,
    pub passthrough_available: bool,
    pub available_model_operations: Option<Vec<Value>>,
}

/// `SyncStatus`, an item of `GET /hris/v1/sync-status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub model_name: String,
    pub model_id: String,
    pub last_sync_start: Option<String>,
    pub next_sync_start: Option<String>,
    pub last_sync_result: Option<String>,
    pub last_sync_finished: Option<String>,
    pub status: String,
    pub is_initial_sync: bool,
    pub selective_sync_configurations_usage: Option<String>,
}

/// `RemoteData`: `{path, data}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteData {
    pub path: String,
    pub data: Option<Value>,
}

/// `Employee`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Employee {
    pub id: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    pub employee_number: Option<String>,
    pub company: Option<Expandable<Value>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub display_full_name: Option<String>,
    pub username: Option<String>,
    pub groups: Option<Vec<Option<Expandable<Group>>>>,
    pub work_email: Option<String>,
    pub personal_email: Option<String>,
    pub mobile_phone_number: Option<String>,
    pub employments: Option<Vec<Option<Expandable<Employment>>>>,
    pub home_location: Option<Expandable<Location>>,
    pub work_location: Option<Expandable<Location>>,
    pub manager: Option<Expandable<Employee>>,
    pub team: Option<Expandable<Team>>,
    pub pay_group: Option<Expandable<Value>>,
    pub ssn: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub marital_status: Option<String>,
    pub date_of_birth: Option<String>,
    pub hire_date: Option<String>,
    pub start_date: Option<String>,
    pub remote_created_at: Option<String>,
    pub employment_status: Option<String>,
    pub termination_date: Option<String>,
    pub avatar: Option<String>,
    pub custom_fields: Option<Value>,
    pub remote_was_deleted: Option<bool>,
    pub field_mappings: Option<Value>,
    pub remote_data: Option<Vec<RemoteData>>,
}

/// `Employment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Employment {
    pub id: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    pub employee: Option<Expandable<Employee>>,
    pub job_title: Option<String>,
    pub pay_rate: Option<f64>,
    pub pay_period: Option<String>,
    pub pay_frequency: Option<String>,
    pub pay_currency: Option<String>,
    pub pay_group: Option<Expandable<Value>>,
    pub flsa_status: Option<String>,
    pub effective_date: Option<String>,
    pub employment_type: Option<String>,
    pub remote_was_deleted: Option<bool>,
    pub field_mappings: Option<Value>,
    pub remote_data: Option<Vec<RemoteData>>,
}

/// `Team`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Team {
    pub id: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    pub name: Option<String>,
    pub parent_team: Option<Expandable<Team>>,
    pub remote_was_deleted: Option<bool>,
    pub field_mappings: Option<Value>,
    pub remote_data: Option<Vec<RemoteData>>,
}

/// `Location`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Location {
    pub id: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub street_1: Option<String>,
    pub street_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip_code: Option<String>,
    pub country: Option<String>,
    pub location_type: Option<String>,
    pub remote_was_deleted: Option<bool>,
    pub field_mappings: Option<Value>,
    pub remote_data: Option<Vec<RemoteData>>,
}

/// `Group`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Group {
    pub id: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    pub parent_group: Option<String>,
    pub name: Option<String>,
    /// `type` on the wire.
    #[serde(rename = "type")]
    pub group_type: Option<String>,
    pub is_commonly_used_as_team: Option<bool>,
    pub remote_was_deleted: Option<bool>,
    pub field_mappings: Option<Value>,
    pub remote_data: Option<Vec<RemoteData>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_merges() {
        let group = serde_json::to_value(Group {
            group_type: Some("DEPARTMENT".into()),
            ..Group::default()
        })
        .unwrap();
        assert_eq!(group["type"], "DEPARTMENT");
        assert!(group.get("group_type").is_none());
        assert_eq!(
            serde_json::to_value(LinkStatus::RelinkNeeded).unwrap(),
            "RELINK_NEEDED"
        );
        let employee = serde_json::to_value(Employee {
            manager: Some(Expandable::Id("m".into())),
            ..Employee::default()
        })
        .unwrap();
        assert_eq!(employee["manager"], "m");
        assert!(employee["remote_was_deleted"].is_null());
    }
}
