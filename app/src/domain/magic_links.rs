//! The service desk's magic links: issue (7 days), list, revoke, and hand over the linked account's
//! ID and token once Merge's `LinkedAccount.linked` webhook delivered it (see `domain::webhooks`).

use crate::{
    auth::Identity,
    error::AppError,
    model::{
        LinkedAccountId, MagicLinkId, MagicLinkStatus, MagicLinkView, OrganizationId,
        OrganizationOption,
    },
    provider::{LinkTokenRequest, LinkedAccountFilter, MAGIC_LINK_EXPIRY_MINS},
    state::AppState,
    storage::{
        now_ms, AuditAction, AuditEvent, AuditSubject, MagicLinkRecord, MagicLinkState,
        NewMagicLink, StoreError, Tx,
    },
};

use super::format_time;
use crate::i18n::Texts;

/// A magic link is valid for 7 days from issue: Merge's maximum (`link_expiry_mins` 10080).
pub const MAGIC_LINK_LIFETIME_MS: i64 = MAGIC_LINK_EXPIRY_MINS as i64 * 60 * 1000;

pub fn status(m: &MagicLinkRecord, now: i64) -> MagicLinkStatus {
    match m.state {
        MagicLinkState::Used => MagicLinkStatus::Used,
        MagicLinkState::Revoked => MagicLinkStatus::Revoked,
        MagicLinkState::Pending if now >= m.expires_at => MagicLinkStatus::Expired,
        MagicLinkState::Pending => MagicLinkStatus::Pending,
    }
}

pub async fn organizations(state: &AppState) -> Result<Vec<OrganizationOption>, AppError> {
    Ok(state
        .db
        .organizations()
        .await?
        .into_iter()
        .map(|o| OrganizationOption {
            id: o.id,
            name: o.name,
        })
        .collect())
}

async fn view(
    state: &AppState,
    t: &Texts,
    m: &MagicLinkRecord,
    now: i64,
) -> Result<MagicLinkView, AppError> {
    let status = status(m, now);
    let url = match status {
        MagicLinkStatus::Pending => Some(
            state
                .keyring
                .open(&m.url)
                .map_err(|e| AppError::internal("magic link url", e))?,
        ),
        _ => None,
    };
    let provider_name = match &m.provider_slug {
        Some(slug) => state
            .directory
            .entry(state.provider.as_ref(), t, slug)
            .await
            .ok()
            .flatten()
            .map(|e| e.name),
        None => None,
    };
    Ok(MagicLinkView {
        id: m.id.clone(),
        organization_id: m.org_id.clone(),
        provider_slug: m.provider_slug.clone(),
        provider_name,
        url,
        issued_by: m.issued_by_name.clone(),
        issued_at: format_time(m.issued_at, t),
        expires_at: format_time(m.expires_at, t),
        status,
        linked_account_id: m.linked_account_id.clone(),
        token_available: status == MagicLinkStatus::Used && m.account_token.is_some(),
    })
}

async fn audit(
    tx: &mut Tx,
    who: &Identity,
    org_id: &OrganizationId,
    action: AuditAction,
    id: &MagicLinkId,
    detail: String,
) -> Result<(), StoreError> {
    tx.record_audit(&AuditEvent::new(
        org_id,
        super::actor(who),
        action,
        AuditSubject::MagicLink(id.clone()),
        detail,
    ))
    .await
}

async fn organization_name(state: &AppState, org_id: &OrganizationId) -> Result<String, AppError> {
    Ok(state
        .db
        .organization(org_id)
        .await?
        .ok_or(AppError::NotFound)?
        .name)
}

/// Issues a magic link for `org_id` (optionally for one HR system) with its own end-user origin id.
pub async fn issue(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
    slug: Option<&str>,
) -> Result<MagicLinkView, AppError> {
    let org_name = organization_name(state, org_id).await?;
    if let Some(slug) = slug {
        if state
            .directory
            .entry(state.provider.as_ref(), who.texts(), slug)
            .await?
            .is_none()
        {
            return Err(AppError::invalid(
                "slug",
                who.texts().choose_system_from_list,
            ));
        }
    }
    let id = MagicLinkId::from(uuid::Uuid::new_v4().to_string());
    let origin = format!("hris-connect-ml-{id}");
    let token = state
        .provider
        .create_link_token(&LinkTokenRequest {
            end_user_origin_id: origin.clone(),
            end_user_organization_name: org_name.clone(),
            end_user_email_address: format!("{}@users.hris-connect.invalid", who.user_id),
            integration: slug.map(str::to_string),
            magic_link: true,
            // The customer opens the link, not the desk agent: Merge's default language.
            language: None,
        })
        .await
        .map_err(|e| AppError::provider(e, who.texts()))?;
    let url = token.magic_link_url.ok_or_else(|| {
        AppError::internal("magic link", "the provider returned no magic_link_url")
    })?;
    let issued_at = now_ms();
    let new = NewMagicLink {
        id: id.clone(),
        org_id: org_id.clone(),
        provider_slug: slug.map(str::to_string),
        end_user_origin_id: origin,
        url: state.keyring.seal(&url),
        issued_by_id: who.user_id.clone(),
        issued_by_name: who.user_name.clone(),
        issued_at,
        expires_at: issued_at + MAGIC_LINK_LIFETIME_MS,
    };
    let mut tx = state.db.begin().await?;
    let record = tx.insert_magic_link(&new).await?;
    audit(
        &mut tx,
        who,
        org_id,
        AuditAction::MagicLinkIssued,
        &id,
        format!("Magic link issued for {org_name}"),
    )
    .await?;
    tx.commit().await?;
    view(state, who.texts(), &record, issued_at).await
}

/// The organization's magic links, newest first. Pending links without an account yet are looked
/// up at the provider by their origin id, so the ID shows even if the webhook is late.
pub async fn list(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
) -> Result<Vec<MagicLinkView>, AppError> {
    let now = now_ms();
    let mut out = Vec::new();
    for mut m in state.db.magic_links(org_id).await? {
        if m.state == MagicLinkState::Pending && m.linked_account_id.is_none() && now < m.expires_at
        {
            let filter = LinkedAccountFilter {
                end_user_origin_id: Some(m.end_user_origin_id.clone()),
                ..Default::default()
            };
            match state.provider.linked_accounts(&filter).await {
                Ok(accounts) => {
                    if let Some(a) = accounts.first() {
                        let account = LinkedAccountId::from(a.id.clone());
                        state
                            .db
                            .set_magic_link_account(org_id, &m.id, &account)
                            .await?;
                        m.linked_account_id = Some(account);
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "polling linked accounts failed"),
            }
        }
        out.push(view(state, who.texts(), &m, now).await?);
    }
    Ok(out)
}

pub async fn revoke(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
    id: &MagicLinkId,
) -> Result<MagicLinkView, AppError> {
    let t = who.texts();
    let m = state
        .db
        .magic_link(org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if status(&m, now_ms()) != MagicLinkStatus::Pending {
        return Err(AppError::Conflict(t.only_pending_revoke.into()));
    }
    let m = async {
        let mut tx = state.db.begin().await?;
        tx.revoke_magic_link(org_id, id).await?;
        audit(
            &mut tx,
            who,
            org_id,
            AuditAction::MagicLinkRevoked,
            id,
            "Magic link revoked".into(),
        )
        .await?;
        let m = tx
            .magic_link(org_id, id)
            .await?
            .ok_or(StoreError::Missing)?;
        tx.commit().await?;
        Ok(m)
    }
    .await
    .map_err(|e| match e {
        // Used or revoked meanwhile.
        StoreError::Missing => AppError::Conflict(t.only_pending_revoke.into()),
        other => other.into(),
    })?;
    view(state, t, &m, now_ms()).await
}

/// Reveals the account token of a used magic link for handover to the admin. Every reveal is audited.
pub async fn reveal_token(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
    id: &MagicLinkId,
) -> Result<String, AppError> {
    let m = state
        .db
        .magic_link(org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sealed = match (status(&m, now_ms()), &m.account_token) {
        (MagicLinkStatus::Used, Some(sealed)) => sealed,
        _ => return Err(AppError::Conflict(who.texts().no_token_to_reveal.into())),
    };
    let token = state
        .keyring
        .open(sealed)
        .map_err(|e| AppError::internal("magic link token", e))?;
    let mut tx = state.db.begin().await?;
    audit(
        &mut tx,
        who,
        org_id,
        AuditAction::MagicLinkTokenRevealed,
        id,
        format!(
            "Token of account {} revealed",
            m.linked_account_id.clone().unwrap_or_default()
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %who.user_id, magic_link = %id, "magic link token revealed");
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Sealed;

    fn record(state: MagicLinkState, issued_at: i64) -> MagicLinkRecord {
        MagicLinkRecord {
            id: "m".into(),
            org_id: "o".into(),
            provider_slug: None,
            end_user_origin_id: "x".into(),
            url: Sealed {
                key_id: "k".into(),
                blob: vec![],
            },
            issued_by_id: "d".into(),
            issued_by_name: "D".into(),
            issued_at,
            expires_at: issued_at + MAGIC_LINK_LIFETIME_MS,
            state,
            linked_account_id: None,
            account_token: None,
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn expiry_is_seven_days_after_issue() {
        assert_eq!(MAGIC_LINK_LIFETIME_MS, 7 * 24 * 3600 * 1000);
        let m = record(MagicLinkState::Pending, 1_000);
        assert_eq!(
            status(&m, 1_000 + MAGIC_LINK_LIFETIME_MS - 1),
            MagicLinkStatus::Pending
        );
        assert_eq!(
            status(&m, 1_000 + MAGIC_LINK_LIFETIME_MS),
            MagicLinkStatus::Expired
        );
        assert_eq!(
            status(&record(MagicLinkState::Used, 0), i64::MAX),
            MagicLinkStatus::Used
        );
        assert_eq!(
            status(&record(MagicLinkState::Revoked, 0), 1),
            MagicLinkStatus::Revoked
        );
    }
}
