//! The dev sign-in: demo users of two demo organizations. Only served when auth mode is dev sign-in.

use super::Identity;
use crate::{
    error::AppError,
    model::{DemoRole, DemoUser, Permission},
};

struct Demo {
    id: &'static str,
    name: &'static str,
    org_id: &'static str,
    org_name: &'static str,
    role: DemoRole,
    permissions: &'static [Permission],
}

const DEMO_USERS: &[Demo] = &[
    Demo {
        id: "alice",
        name: "Alice Admin",
        org_id: "acme",
        org_name: "Acme GmbH",
        role: DemoRole::Admin,
        permissions: &[Permission::ManageIntegrations],
    },
    Demo {
        id: "bob",
        name: "Bob Editor",
        org_id: "acme",
        org_name: "Acme GmbH",
        role: DemoRole::User,
        permissions: &[],
    },
    Demo {
        id: "dana",
        name: "Dana Desk",
        org_id: "haiilo-service-desk",
        org_name: "Haiilo Service Desk",
        role: DemoRole::Desk,
        permissions: &[Permission::ServiceDesk],
    },
    Demo {
        id: "gina",
        name: "Gina Globex",
        org_id: "globex",
        org_name: "Globex Ltd",
        role: DemoRole::SecondAdmin,
        permissions: &[Permission::ManageIntegrations],
    },
];

pub fn demo_users() -> Vec<DemoUser> {
    DEMO_USERS
        .iter()
        .map(|d| DemoUser {
            id: d.id.into(),
            name: d.name.into(),
            organization_name: d.org_name.into(),
            role: d.role,
        })
        .collect()
}

pub fn demo_identity(user_id: &str) -> Option<Identity> {
    DEMO_USERS
        .iter()
        .find(|d| d.id == user_id)
        .map(|d| Identity {
            org_id: d.org_id.into(),
            org_name: d.org_name.into(),
            user_id: d.id.into(),
            user_name: d.name.into(),
            locale: "en".into(),
            permissions: d.permissions.to_vec(),
        })
}

/// The demo user moved into a demo organization named `name` (id `demo-<slug of name>`).
pub fn in_organization(mut identity: Identity, name: &str) -> Result<Identity, AppError> {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    if slug.is_empty() || name.chars().count() > 80 {
        return Err(AppError::invalid(
            "organization",
            "Use 1 to 80 characters, with letters or digits.",
        ));
    }
    identity.org_id = format!("demo-{slug}").into();
    identity.org_name = name.to_string();
    Ok(identity)
}
