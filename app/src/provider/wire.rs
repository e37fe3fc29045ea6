//! Merge's JSON, field for field (snake_case, as on the wire), and its mapping to the domain types.
//!
//! Both directions derive serde. The Merge sandbox (`server/sandbox/`) has its own types, written
//! from Merge's wire shapes, so a field misread here is not mirrored there.
//! Missing optional fields deserialize as `None`; unknown fields are ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    AccountDetails as DomainAccountDetails, AccountToken as DomainAccountToken,
    AccountTokenExchange, EmploymentStatus, Integration, LinkStatus, LinkTokenRequest,
    LinkTokenResult, LinkedAccount, SyncState, MAGIC_LINK_EXPIRY_MINS,
};

/// A relation: a UUID string, or the object itself when asked for with `expand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

/// Objects that carry a Merge `id`, so an expanded relation still yields its id.
pub trait HasId {
    fn id(&self) -> Option<&str>;
}

impl HasId for Value {
    fn id(&self) -> Option<&str> {
        self.get("id").and_then(Value::as_str)
    }
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> Option<&str> {
        match self {
            Expandable::Id(id) => Some(id),
            Expandable::Object(o) => o.id(),
        }
    }
}

fn rel_id<T: HasId>(rel: &Option<Expandable<T>>) -> Option<String> {
    rel.as_ref().and_then(Expandable::id).map(str::to_string)
}

fn rel_ids<T: HasId>(rels: &Option<Vec<Option<Expandable<T>>>>) -> Vec<String> {
    rels.iter()
        .flatten()
        .flatten()
        .filter_map(Expandable::id)
        .map(str::to_string)
        .collect()
}

/// `{next, previous, results}`, the envelope of every list endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paginated<T> {
    pub next: Option<String>,
    pub previous: Option<String>,
    #[serde(
        default = "Vec::new",
        deserialize_with = "null_as_empty",
        bound(deserialize = "T: Deserialize<'de>")
    )]
    pub results: Vec<T>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// DRF-style error body, e.g. `{"detail": "Invalid token."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub detail: String,
}

/// Body of `POST /hris/v1/link-token` (`EndUserDetailsRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndUserDetailsRequest {
    pub end_user_email_address: String,
    pub end_user_organization_name: String,
    pub end_user_origin_id: String,
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_expiry_mins: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_create_magic_link_url: Option<bool>,
    /// Link's UI language: `"en"` or `"de"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl From<&LinkTokenRequest> for EndUserDetailsRequest {
    fn from(r: &LinkTokenRequest) -> Self {
        EndUserDetailsRequest {
            end_user_email_address: r.end_user_email_address.clone(),
            end_user_organization_name: r.end_user_organization_name.clone(),
            end_user_origin_id: r.end_user_origin_id.clone(),
            categories: vec!["hris".to_string()],
            integration: r.integration.clone(),
            link_expiry_mins: r.magic_link.then_some(MAGIC_LINK_EXPIRY_MINS),
            should_create_magic_link_url: r.magic_link.then_some(true),
            language: r.language.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkToken {
    pub link_token: String,
    pub integration_name: Option<String>,
    pub magic_link_url: Option<String>,
}

impl From<LinkToken> for LinkTokenResult {
    fn from(w: LinkToken) -> Self {
        LinkTokenResult {
            link_token: w.link_token,
            integration_name: w.integration_name,
            magic_link_url: w.magic_link_url,
        }
    }
}

/// `AccountIntegration`, also the item of the integrations directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl From<AccountIntegration> for Integration {
    fn from(w: AccountIntegration) -> Self {
        Integration {
            name: w.name,
            slug: w.slug,
            categories: w.categories.unwrap_or_default(),
            image: w.image,
            square_image: w.square_image,
            color: w.color,
        }
    }
}

/// The directory answers with a bare array (`/integrations`) or a page (`/organizations/integrations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntegrationList {
    Array(Vec<AccountIntegration>),
    Page(Paginated<AccountIntegration>),
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
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

impl From<AccountToken> for AccountTokenExchange {
    fn from(w: AccountToken) -> Self {
        AccountTokenExchange {
            account_token: DomainAccountToken::new(w.account_token),
            linked_account_id: w.id,
            integration: w.integration.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<AccountDetails> for DomainAccountDetails {
    fn from(w: AccountDetails) -> Self {
        DomainAccountDetails {
            id: w.id,
            integration_name: w.integration,
            integration_slug: w.integration_slug,
            end_user_origin_id: w.end_user_origin_id,
            end_user_organization_name: w.end_user_organization_name,
            end_user_email_address: w.end_user_email_address,
            // Absent status: Merge gave no verdict; treat it as not (yet) complete.
            status: w
                .status
                .as_deref()
                .map_or(LinkStatus::Incomplete, LinkStatus::parse),
            account_type: w.account_type,
            completed_at: w.completed_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDetailsAndActions {
    pub id: String,
    pub category: Option<String>,
    pub status: String,
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

impl From<AccountDetailsAndActions> for LinkedAccount {
    fn from(w: AccountDetailsAndActions) -> Self {
        LinkedAccount {
            id: w.id,
            status: LinkStatus::parse(&w.status),
            status_detail: w.status_detail,
            end_user_origin_id: w.end_user_origin_id,
            end_user_organization_name: w.end_user_organization_name,
            end_user_email_address: w.end_user_email_address,
            integration: w.integration.map(|i| Integration {
                name: i.name,
                slug: Some(i.slug),
                categories: i.categories,
                image: i.image,
                square_image: i.square_image,
                color: Some(i.color),
            }),
            account_type: w.account_type,
            completed_at: w.completed_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<SyncStatus> for super::SyncStatus {
    fn from(w: SyncStatus) -> Self {
        super::SyncStatus {
            model_name: w.model_name,
            model_id: w.model_id,
            status: SyncState::parse(&w.status),
            last_sync_result: w.last_sync_result.as_deref().map(SyncState::parse),
            last_sync_start: w.last_sync_start,
            last_sync_finished: w.last_sync_finished,
            next_sync_start: w.next_sync_start,
            is_initial_sync: w.is_initial_sync,
        }
    }
}

/// `{path, data}` items of `remote_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteData {
    pub path: String,
    pub data: Option<Value>,
}

/// Fields every common model has.
macro_rules! common_model {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            pub id: Option<String>,
            pub remote_id: Option<String>,
            pub created_at: Option<String>,
            pub modified_at: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
            pub remote_was_deleted: Option<bool>,
            pub field_mappings: Option<Value>,
            pub remote_data: Option<Vec<RemoteData>>,
        }

        impl HasId for $name {
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }
        }
    };
}

common_model!(Employee {
    employee_number: Option<String>,
    company: Option<Expandable<Value>>,
    first_name: Option<String>,
    last_name: Option<String>,
    preferred_name: Option<String>,
    display_full_name: Option<String>,
    username: Option<String>,
    groups: Option<Vec<Option<Expandable<Group>>>>,
    work_email: Option<String>,
    personal_email: Option<String>,
    mobile_phone_number: Option<String>,
    employments: Option<Vec<Option<Expandable<Employment>>>>,
    home_location: Option<Expandable<Location>>,
    work_location: Option<Expandable<Location>>,
    manager: Option<Expandable<Employee>>,
    team: Option<Expandable<Team>>,
    pay_group: Option<Expandable<Value>>,
    ssn: Option<String>,
    gender: Option<String>,
    ethnicity: Option<String>,
    marital_status: Option<String>,
    date_of_birth: Option<String>,
    hire_date: Option<String>,
    start_date: Option<String>,
    remote_created_at: Option<String>,
    employment_status: Option<String>,
    termination_date: Option<String>,
    avatar: Option<String>,
    custom_fields: Option<Value>,
});

common_model!(Employment {
    employee: Option<Expandable<Employee>>,
    job_title: Option<String>,
    pay_rate: Option<f64>,
    pay_period: Option<String>,
    pay_frequency: Option<String>,
    pay_currency: Option<String>,
    pay_group: Option<Expandable<Value>>,
    flsa_status: Option<String>,
    effective_date: Option<String>,
    employment_type: Option<String>,
});

common_model!(Team {
    name: Option<String>,
    parent_team: Option<Expandable<Team>>,
});

common_model!(Location {
    name: Option<String>,
    phone_number: Option<String>,
    street_1: Option<String>,
    street_2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zip_code: Option<String>,
    country: Option<String>,
    location_type: Option<String>,
});

common_model!(Group {
    parent_group: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    group_type: Option<String>,
    is_commonly_used_as_team: Option<bool>,
});

/// Every record the app keeps has an id; one without is unreadable.
fn required_id(id: Option<String>) -> Result<String, MissingId> {
    id.ok_or(MissingId)
}

/// A common-model record came without its `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingId;

impl TryFrom<Employee> for super::Employee {
    type Error = MissingId;
    fn try_from(w: Employee) -> Result<Self, MissingId> {
        Ok(super::Employee {
            manager_id: rel_id(&w.manager),
            team_id: rel_id(&w.team),
            work_location_id: rel_id(&w.work_location),
            group_ids: rel_ids(&w.groups),
            employment_ids: rel_ids(&w.employments),
            id: required_id(w.id)?,
            remote_id: w.remote_id,
            employee_number: w.employee_number,
            first_name: w.first_name,
            last_name: w.last_name,
            preferred_name: w.preferred_name,
            display_full_name: w.display_full_name,
            work_email: w.work_email,
            employment_status: w.employment_status.as_deref().map(EmploymentStatus::parse),
            start_date: w.start_date,
            termination_date: w.termination_date,
            modified_at: w.modified_at,
            remote_was_deleted: w.remote_was_deleted.unwrap_or(false),
        })
    }
}

impl TryFrom<Employment> for super::Employment {
    type Error = MissingId;
    fn try_from(w: Employment) -> Result<Self, MissingId> {
        Ok(super::Employment {
            employee_id: rel_id(&w.employee),
            id: required_id(w.id)?,
            remote_id: w.remote_id,
            job_title: w.job_title,
            pay_rate: w.pay_rate,
            pay_period: w.pay_period,
            pay_currency: w.pay_currency,
            employment_type: w.employment_type,
            effective_date: w.effective_date,
            modified_at: w.modified_at,
            remote_was_deleted: w.remote_was_deleted.unwrap_or(false),
        })
    }
}

impl TryFrom<Team> for super::Team {
    type Error = MissingId;
    fn try_from(w: Team) -> Result<Self, MissingId> {
        Ok(super::Team {
            parent_team_id: rel_id(&w.parent_team),
            id: required_id(w.id)?,
            remote_id: w.remote_id,
            name: w.name,
            modified_at: w.modified_at,
            remote_was_deleted: w.remote_was_deleted.unwrap_or(false),
        })
    }
}

impl TryFrom<Location> for super::Location {
    type Error = MissingId;
    fn try_from(w: Location) -> Result<Self, MissingId> {
        Ok(super::Location {
            id: required_id(w.id)?,
            remote_id: w.remote_id,
            name: w.name,
            city: w.city,
            country: w.country,
            location_type: w.location_type,
            modified_at: w.modified_at,
            remote_was_deleted: w.remote_was_deleted.unwrap_or(false),
        })
    }
}

impl TryFrom<Group> for super::Group {
    type Error = MissingId;
    fn try_from(w: Group) -> Result<Self, MissingId> {
        Ok(super::Group {
            id: required_id(w.id)?,
            remote_id: w.remote_id,
            name: w.name,
            group_type: w.group_type,
            parent_group_id: w.parent_group,
            is_commonly_used_as_team: w.is_commonly_used_as_team,
            modified_at: w.modified_at,
            remote_was_deleted: w.remote_was_deleted.unwrap_or(false),
        })
    }
}
