//! Connections to HR systems: connect directly through Merge Link, test, relink, activate,
//! deactivate, delete. Lifecycle, health and `enabled` are independent facts; every change is audited.

use crate::{
    auth::Identity,
    crypto::last4,
    error::AppError,
    i18n::{Texts, EN},
    model::{
        ConnectionId, ConnectionKind, ConnectionView, Deletion, HealthStatus, Lifecycle,
        LinkSession, LinkedAccountId, OrganizationId, TestOutcome,
    },
    provider::{
        AccountToken, LinkStatus, LinkTokenRequest, LinkedAccountFilter, PageQuery, ProviderError,
    },
    state::AppState,
    storage::{
        now_ms, AuditAction, AuditEvent, AuditSubject, ConnectionRecord, NewConnection, StoreError,
        Tx,
    },
};

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::{actor, format_time, health::HealthDetail};

pub const NAME_MAX_CHARS: usize = 80;

/// A connection name: trimmed, 1–80 characters, unique within the organization (ignoring case).
pub async fn validate_name(
    state: &AppState,
    who: &Identity,
    name: &str,
) -> Result<String, AppError> {
    let t = who.texts();
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", t.name_empty));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::invalid(
            "name",
            (t.name_too_long)(NAME_MAX_CHARS as u64),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", t.name_control));
    }
    // Format characters (Unicode category Cf): text-direction overrides, zero-width spaces and
    // joiners, byte-order marks. Invisible, they let one name pose as another.
    if name
        .chars()
        .any(|c| c.general_category() == GeneralCategory::Format)
    {
        return Err(AppError::invalid("name", t.name_invisible));
    }
    if state.db.connection_name_taken(&who.org_id, name).await? {
        return Err(AppError::invalid("name", (t.name_taken)(name)));
    }
    Ok(name.to_string())
}

/// The organization exists from the session's start; only its switch is read here (no write, so a
/// concurrent writer's transaction does not hold this up).
async fn require_enabled(state: &AppState, who: &Identity) -> Result<(), AppError> {
    let enabled = state
        .db
        .organization(&who.org_id)
        .await?
        .is_some_and(|o| o.hris_enabled);
    if !enabled {
        return Err(AppError::Conflict(who.texts().turn_on_first.into()));
    }
    Ok(())
}

/// Records `action` on `c` by `who`, inside the transaction of the change it describes.
async fn audit(
    tx: &mut Tx,
    who: &Identity,
    action: AuditAction,
    c: &ConnectionRecord,
    detail: impl Into<String>,
) -> Result<(), StoreError> {
    tx.record_audit(&event(who, action, c, detail)).await
}

/// The audit event of `action` on `c`, naming the connection as it is named now.
fn event(
    who: &Identity,
    action: AuditAction,
    c: &ConnectionRecord,
    detail: impl Into<String>,
) -> AuditEvent {
    AuditEvent::new(
        &c.org_id,
        actor(who),
        action,
        AuditSubject::Connection(c.id.clone()),
        detail,
    )
    .with_subject_name(&c.display_name)
}

/// A storage failure as the user sees it: a write that found its row gone or changed is a conflict
/// ("changed meanwhile"); anything else is internal.
fn stored(t: &'static Texts) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::Missing | StoreError::Conflict(_) => {
            AppError::Conflict(t.changed_meanwhile.into())
        }
        other => other.into(),
    }
}

/// Ends a change to `c`: records `action` in the same transaction, commits, and returns the
/// connection as the change left it.
async fn commit_audited(
    mut tx: Tx,
    who: &Identity,
    action: AuditAction,
    c: &ConnectionRecord,
    detail: impl Into<String>,
) -> Result<ConnectionRecord, StoreError> {
    audit(&mut tx, who, action, c, detail).await?;
    let c = reload(&mut tx, c).await?;
    tx.commit().await?;
    Ok(c)
}

/// The connection as the transaction sees it after its writes.
async fn reload(tx: &mut Tx, c: &ConnectionRecord) -> Result<ConnectionRecord, StoreError> {
    tx.connection(&c.org_id, &c.id)
        .await?
        .ok_or(StoreError::Missing)
}

async fn load(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<ConnectionRecord, AppError> {
    state
        .db
        .connection(&who.org_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub(crate) fn token_of(
    state: &AppState,
    t: &Texts,
    c: &ConnectionRecord,
) -> Result<AccountToken, AppError> {
    let sealed = c
        .account_token
        .as_ref()
        .ok_or_else(|| AppError::Conflict(t.not_linked_yet.into()))?;
    let token = state
        .keyring
        .open(sealed)
        .map_err(|e| AppError::internal("account token cannot be opened", e))?;
    Ok(AccountToken::new(token))
}

/// The connection as `t`'s reader sees it, with the HR system's name and logo from the directory.
pub async fn view(state: &AppState, t: &Texts, c: &ConnectionRecord) -> ConnectionView {
    let entry = match &c.provider_slug {
        Some(slug) => state
            .directory
            .entry(state.provider.as_ref(), t, slug)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    ConnectionView {
        id: c.id.clone(),
        kind: c.kind,
        name: c.display_name.clone(),
        provider_slug: c.provider_slug.clone(),
        provider_name: entry.as_ref().map(|e| e.name.clone()),
        logo_url: entry.and_then(|e| e.logo_url),
        lifecycle: c.lifecycle,
        enabled: c.enabled,
        health: c.health_status,
        health_detail: c
            .health_detail
            .as_deref()
            .map(|d| HealthDetail::describe(d, t)),
        checked_at: c.health_checked_at.map(|at| format_time(at, t)),
        provider_status: c.provider_status.clone(),
        linked_account_id: c.linked_account_id.clone(),
        created_at: format_time(c.created_at, t),
    }
}

pub async fn list(state: &AppState, who: &Identity) -> Result<Vec<ConnectionView>, AppError> {
    list_for(state, who, &who.org_id).await
}

/// The connections of any organization (for the service desk, which works across organizations),
/// in `who`'s words.
pub async fn list_for(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
) -> Result<Vec<ConnectionView>, AppError> {
    let mut out = Vec::new();
    for c in state.db.connections(org_id).await? {
        out.push(view(state, who.texts(), &c).await);
    }
    Ok(out)
}

fn link_request(who: &Identity, origin: &str, slug: Option<&str>) -> LinkTokenRequest {
    LinkTokenRequest {
        end_user_origin_id: origin.to_string(),
        end_user_organization_name: who.org_name.clone(),
        // Merge only identifies the end user by it and sends no e-mail; we have no address of the
        // admin, so a stable per-user placeholder on a reserved domain is used.
        end_user_email_address: format!("{}@users.hris-connect.invalid", who.user_id),
        integration: slug.map(str::to_string),
        magic_link: false,
        // Merge Link speaks English and German; other locales get Merge's default.
        language: Some(who.locale().code().to_string()),
    }
}

/// A Link session for connection `id` (its end-user origin id `origin`).
async fn link_session(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
    origin: &str,
    slug: Option<&str>,
) -> Result<LinkSession, AppError> {
    let token = state
        .provider
        .create_link_token(&link_request(who, origin, slug))
        .await
        .map_err(|e| AppError::provider(e, who.texts()))?;
    Ok(LinkSession {
        connection_id: id.clone(),
        link_token: token.link_token,
        link_script_url: state.settings.link_script_url.clone(),
    })
}

/// Connect → Create name: creates the unfinished connection for `slug` under a validated name and a
/// link token to open Merge Link with. The end-user origin id is unique to this connection.
pub async fn start_direct(
    state: &AppState,
    who: &Identity,
    slug: &str,
    name: &str,
) -> Result<LinkSession, AppError> {
    require_enabled(state, who).await?;
    let t = who.texts();
    let name = validate_name(state, who, name).await?;
    if state
        .directory
        .entry(state.provider.as_ref(), t, slug)
        .await?
        .is_none()
    {
        return Err(AppError::invalid("slug", t.cannot_connect_directly));
    }
    let id = ConnectionId::from(uuid::Uuid::new_v4().to_string());
    let new = NewConnection {
        id: id.clone(),
        org_id: who.org_id.clone(),
        kind: ConnectionKind::Direct,
        provider_slug: Some(slug.to_string()),
        display_name: name.clone(),
        end_user_origin_id: format!("hris-connect-{id}"),
        linked_account_id: None,
        account_token: None,
        account_token_last4: None,
        lifecycle: Lifecycle::PendingLink,
    };
    // The link token first: if Merge fails it, nothing is written (and the name stays free).
    let session = link_session(
        state,
        who,
        &new.id,
        &new.end_user_origin_id,
        new.provider_slug.as_deref(),
    )
    .await?;
    async {
        let mut tx = state.db.begin().await?;
        let record = tx.insert_connection(&new).await?;
        audit(
            &mut tx,
            who,
            AuditAction::ConnectionCreated,
            &record,
            format!("Started connecting {name} ({slug})"),
        )
        .await?;
        tx.commit().await
    }
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => AppError::invalid("name", (t.name_taken)(&name)),
        other => stored(t)(other),
    })?;
    Ok(session)
}

/// Continue setup (unfinished connection) or Relink Flow (linked one): a fresh link token for the
/// same end-user origin id, which Merge uses to recognize the linked account.
pub async fn link_again(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<LinkSession, AppError> {
    let c = load(state, who, id).await?;
    if c.kind != ConnectionKind::Direct {
        return Err(AppError::Conflict(who.texts().set_up_by_desk.into()));
    }
    link_session(
        state,
        who,
        &c.id,
        &c.end_user_origin_id,
        c.provider_slug.as_deref(),
    )
    .await
}

/// Link's onSuccess: exchanges the public token, checks the account and stores its token sealed.
/// On a relink, the account must be the one already linked, or nothing changes.
pub async fn finish_link(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
    public_token: &str,
) -> Result<ConnectionView, AppError> {
    let t = who.texts();
    let c = load(state, who, id).await?;
    if public_token.trim().is_empty() || public_token.len() > 512 {
        return Err(AppError::invalid("public_token", t.link_result_missing));
    }
    let exchange = match state
        .provider
        .exchange_public_token(public_token.trim())
        .await
    {
        Ok(exchange) => exchange,
        // Merge does not know it (expired, used, made up) or it is not a token at all: the
        // caller's input is wrong, not the provider.
        Err(ProviderError::NotFound | ProviderError::InvalidRequest) => {
            return Err(AppError::invalid("public_token", t.link_result_invalid))
        }
        Err(e) => return Err(AppError::provider(e, t)),
    };
    let account = LinkedAccountId::from(exchange.linked_account_id.clone());
    let details = state
        .provider
        .account_details(&exchange.account_token)
        .await
        .map_err(|e| AppError::provider(e, t))?;
    // The account must come from this connection's Link session (Merge keeps the end-user origin id
    // of the link token we issued for it), and a relink must return the account already linked.
    let refusal = if details.end_user_origin_id.as_deref() != Some(c.end_user_origin_id.as_str()) {
        tracing::warn!(connection = %c.id, "public token of another Link session; refused");
        Some((
            AuditAction::ConnectionLinkRefused,
            "Link refused: the public token came from another Link session",
            t.link_not_this_connection,
        ))
    } else if c.linked_account_id.as_ref().is_some_and(|e| e != &account) {
        tracing::warn!(connection = %c.id, "relink returned a different linked account; refused");
        Some((
            AuditAction::ConnectionRelinkRefused,
            "Relink refused: a different HR tenant was linked",
            t.different_account,
        ))
    } else {
        None
    };
    if let Some((action, detail, message)) = refusal {
        // Not kept: the account exchanged for is deleted at Merge too, so it does not linger there
        // with a token nobody holds.
        if let Err(e) = state.provider.delete_account(&exchange.account_token).await {
            tracing::warn!(error = ?e, connection = %c.id, "refused account could not be deleted at the provider");
        }
        async {
            let mut tx = state.db.begin().await?;
            audit(&mut tx, who, action, &c, detail).await?;
            tx.commit().await
        }
        .await
        .map_err(stored(t))?;
        return Err(AppError::Conflict(message.into()));
    }
    let token = exchange.account_token.expose();
    let (health, detail) = HealthDetail::of_status(&details.status);
    let relinked = c.linked_account_id.is_some();
    let c = async {
        let mut tx = state.db.begin().await?;
        tx.set_connection_linked(
            &c.org_id,
            &c.id,
            &account,
            &state.keyring.seal(token),
            &last4(token),
        )
        .await?;
        tx.set_connection_health(
            &c.org_id,
            &c.id,
            health,
            Some(&detail.code()),
            Some(details.status.as_str()),
            now_ms(),
        )
        .await?;
        commit_audited(
            tx,
            who,
            if relinked {
                AuditAction::ConnectionRelinked
            } else {
                AuditAction::ConnectionLinked
            },
            &c,
            format!("{} linked to account {account}", c.display_name),
        )
        .await
    }
    .await
    .map_err(stored(t))?;
    if relinked && c.enabled {
        // Merge may know the records under new ids now: a full sync re-binds them by remote id.
        super::sync::triggers::on_activation(
            state,
            &c.org_id,
            &c.id,
            crate::storage::SyncTrigger::Relink,
        )
        .await;
    }
    Ok(view(state, t, &c).await)
}

/// Test Connection: account details plus a one-record read; the result becomes the health.
pub async fn test(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<TestOutcome, AppError> {
    let t = who.texts();
    let c = load(state, who, id).await?;
    let token = token_of(state, t, &c)?;
    let (health, detail, provider_status) = probe(state.provider.as_ref(), &token, &c).await;
    let now = now_ms();
    let c = async {
        let mut tx = state.db.begin().await?;
        tx.set_connection_health(
            &c.org_id,
            &c.id,
            health,
            Some(&detail.code()),
            provider_status.as_deref(),
            now,
        )
        .await?;
        // The result goes with the event, so the timeline can say it in the reader's language.
        let tested = event(
            who,
            AuditAction::ConnectionTested,
            &c,
            format!("Test Connection: {}", detail.message(&EN)),
        )
        .with_outcome(health.as_str());
        tx.record_audit(&tested).await?;
        let c = reload(&mut tx, &c).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(c)
    }
    .await
    .map_err(stored(t))?;
    Ok(TestOutcome {
        ok: health == HealthStatus::Ok,
        message: detail.message(t),
        checked_at: format_time(now, t),
        connection: view(state, t, &c).await,
    })
}

/// Activate: makes this the organization's one active source of employee data. The database keeps
/// it the only one; if another connection was activated meanwhile (by another admin or another
/// instance), this activation is refused rather than silently replacing it.
pub async fn activate(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<ConnectionView, AppError> {
    require_enabled(state, who).await?;
    let t = who.texts();
    let c = load(state, who, id).await?;
    if c.lifecycle != Lifecycle::Linked {
        return Err(AppError::Conflict(t.finish_before_activating.into()));
    }
    let previous = state
        .db
        .connections(&who.org_id)
        .await?
        .into_iter()
        .find(|o| o.enabled && o.id != c.id);
    let c = async {
        let mut tx = state.db.begin().await?;
        activate_in(&mut tx, who, &c, previous.as_ref()).await?;
        reload(&mut tx, &c).await.map(|c| (tx, c))
    }
    .await;
    let c = match c {
        Ok((tx, c)) => tx.commit().await.map(|()| c),
        Err(e) => Err(e),
    }
    .map_err(|e| match e {
        StoreError::Conflict(_) => AppError::Conflict(t.activated_meanwhile.into()),
        other => stored(t)(other),
    })?;
    super::sync::triggers::on_activation(
        state,
        &c.org_id,
        &c.id,
        crate::storage::SyncTrigger::Activation,
    )
    .await;
    Ok(view(state, t, &c).await)
}

/// Makes `c` the active connection inside `tx`, deactivating `previous` (what the caller saw as
/// active), with both audit events.
pub(crate) async fn activate_in(
    tx: &mut Tx,
    who: &Identity,
    c: &ConnectionRecord,
    previous: Option<&ConnectionRecord>,
) -> Result<(), StoreError> {
    tx.activate_connection(&c.org_id, &c.id, previous.map(|p| &p.id))
        .await?;
    if let Some(p) = previous {
        audit(
            tx,
            who,
            AuditAction::ConnectionDeactivated,
            p,
            format!(
                "{} deactivated: {} was activated",
                p.display_name, c.display_name
            ),
        )
        .await?;
    }
    audit(
        tx,
        who,
        AuditAction::ConnectionActivated,
        c,
        format!("{} activated", c.display_name),
    )
    .await
}

/// Checks the connection the way Test Connection does: the linked account's status, then one
/// record, which proves the token reads data. Returns the health, its finding and Merge's status.
pub async fn probe(
    provider: &dyn crate::provider::HrisProvider,
    token: &AccountToken,
    c: &ConnectionRecord,
) -> (HealthStatus, HealthDetail, Option<String>) {
    let result = async {
        let details = provider.account_details(token).await?;
        if details.status != LinkStatus::RelinkNeeded {
            provider
                .employees(
                    token,
                    PageQuery {
                        page_size: Some(1),
                        ..PageQuery::default()
                    },
                )
                .await?;
        }
        Ok::<_, ProviderError>(details)
    }
    .await;
    match result {
        Ok(details) => {
            let (h, d) = HealthDetail::of_status(&details.status);
            (h, d, Some(details.status.as_str().to_string()))
        }
        Err(e) => {
            let (h, d) = HealthDetail::of_failure(e);
            (h, d, c.provider_status.clone())
        }
    }
}

/// Deactivate: stops using the connection and keeps its credentials.
pub async fn deactivate(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<ConnectionView, AppError> {
    let t = who.texts();
    let c = load(state, who, id).await?;
    let c = async {
        let mut tx = state.db.begin().await?;
        tx.deactivate_connection(&c.org_id, &c.id).await?;
        commit_audited(
            tx,
            who,
            AuditAction::ConnectionDeactivated,
            &c,
            format!("{} deactivated", c.display_name),
        )
        .await
    }
    .await
    .map_err(stored(t))?;
    Ok(view(state, t, &c).await)
}

/// Delete (or Remove, for an unfinished connection): revokes the linked account at the provider,
/// then removes it here. If the provider refuses, nothing is removed.
pub async fn delete(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<Deletion, AppError> {
    let t = who.texts();
    let c = load(state, who, id).await?;
    let mut outcome = Deletion::Revoked;
    if c.account_token.is_some() {
        let token = token_of(state, t, &c)?;
        match state.provider.delete_account(&token).await {
            Ok(()) => {}
            // Merge no longer knows the account, or refuses its token (removed there, or revoked):
            // its access has already ended and nothing is left to revoke. A refused token could
            // also mean our API key is refused; listing with the API key alone tells them apart.
            Err(ProviderError::NotFound) => outcome = Deletion::AlreadyGoneAtProvider,
            Err(ProviderError::TokenRejected) => {
                let filter = LinkedAccountFilter {
                    end_user_origin_id: Some(c.end_user_origin_id.clone()),
                    ..Default::default()
                };
                if let Err(e) = state.provider.linked_accounts(&filter).await {
                    tracing::warn!(error = ?e, "provider refused the API key while deleting");
                    return Err(AppError::Provider((t.not_deleted)(&e.message(t))));
                }
                outcome = Deletion::AlreadyGoneAtProvider;
            }
            Err(e) => {
                tracing::warn!(error = ?e, "provider refused to delete the account");
                return Err(AppError::Provider((t.not_deleted)(&e.message(t))));
            }
        }
    }
    let detail = match outcome {
        Deletion::Revoked => format!("{} deleted", c.display_name),
        Deletion::AlreadyGoneAtProvider => format!(
            "{} deleted; its account was already gone at Merge (unknown or token refused)",
            c.display_name
        ),
    };
    async {
        let mut tx = state.db.begin().await?;
        tx.delete_connection(&c.org_id, &c.id).await?;
        audit(&mut tx, who, AuditAction::ConnectionDeleted, &c, detail).await?;
        tx.commit().await?;
        Ok(outcome)
    }
    .await
    .map_err(|e| match e {
        // Someone else deleted it first: it is gone, as asked, but this request did not do it.
        StoreError::Missing => AppError::Conflict(t.already_deleted.into()),
        other => stored(t)(other),
    })
}

/// Other HR systems → Add connection: an account linked through the service desk's magic link.
/// The token is checked with the provider and must belong to the account `account_id`; on any error
/// nothing is saved.
pub async fn add_manual(
    state: &AppState,
    who: &Identity,
    name: &str,
    account_id: &str,
    token: &str,
) -> Result<ConnectionView, AppError> {
    require_enabled(state, who).await?;
    let t = who.texts();
    let name = validate_name(state, who, name).await?;
    let (account_id, token) = (account_id.trim(), token.trim());
    if account_id.is_empty() || account_id.len() > 200 {
        return Err(AppError::invalid("account_id", t.enter_account_id));
    }
    if token.is_empty() || token.len() > 1000 {
        return Err(AppError::invalid("token", t.enter_token));
    }
    let account_id = LinkedAccountId::from(account_id);
    let details = verify_token(state, t, token, &account_id).await?;
    let id = ConnectionId::from(uuid::Uuid::new_v4().to_string());
    let new = NewConnection {
        id: id.clone(),
        org_id: who.org_id.clone(),
        kind: ConnectionKind::Manual,
        provider_slug: details.integration_slug.clone(),
        display_name: name.clone(),
        end_user_origin_id: details
            .end_user_origin_id
            .clone()
            .unwrap_or_else(|| format!("hris-connect-manual-{id}")),
        linked_account_id: Some(account_id.clone()),
        account_token: Some(state.keyring.seal(token)),
        account_token_last4: Some(last4(token)),
        lifecycle: Lifecycle::Linked,
    };
    let (health, detail) = HealthDetail::of_status(&details.status);
    let stored_result = async {
        let mut tx = state.db.begin().await?;
        let record = tx.insert_connection(&new).await?;
        tx.set_connection_health(
            &record.org_id,
            &record.id,
            health,
            Some(&detail.code()),
            Some(details.status.as_str()),
            now_ms(),
        )
        .await?;
        commit_audited(
            tx,
            who,
            AuditAction::ConnectionAddedManually,
            &record,
            format!("{name} added with account {account_id}"),
        )
        .await
    }
    .await;
    let record = match stored_result {
        Ok(r) => r,
        // Either the name (taken by a concurrent add since it was checked) or the linked account's
        // origin id (already connected): the name decides which.
        Err(StoreError::Conflict(_)) => {
            return Err(
                if state.db.connection_name_taken(&who.org_id, &name).await? {
                    AppError::invalid("name", (t.name_taken)(&name))
                } else {
                    AppError::invalid("account_id", t.account_already_connected)
                },
            )
        }
        Err(other) => return Err(stored(t)(other)),
    };
    Ok(view(state, t, &record).await)
}

/// Checks that `token` opens the linked account `account_id`. Errors name the field they belong to.
async fn verify_token(
    state: &AppState,
    t: &Texts,
    token: &str,
    account_id: &LinkedAccountId,
) -> Result<crate::provider::AccountDetails, AppError> {
    let details = match state
        .provider
        .account_details(&AccountToken::new(token))
        .await
    {
        Ok(d) => d,
        Err(ProviderError::TokenRejected) => {
            return Err(AppError::invalid("token", t.token_rejected))
        }
        Err(e) => {
            return Err(AppError::invalid(
                "token",
                (t.token_unchecked)(&e.message(t)),
            ))
        }
    };
    if details.id.as_deref() != Some(account_id.as_str()) {
        return Err(AppError::invalid("account_id", t.id_mismatch));
    }
    Ok(details)
}

/// The service desk replaces the token of a manually set-up connection (same linked account only).
pub async fn replace_token(
    state: &AppState,
    who: &Identity,
    org_id: &OrganizationId,
    id: &ConnectionId,
    token: &str,
) -> Result<ConnectionView, AppError> {
    let t = who.texts();
    let c = state
        .db
        .connection(org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if c.kind != ConnectionKind::Manual {
        return Err(AppError::Conflict(t.only_manual_replace.into()));
    }
    let token = token.trim();
    if token.is_empty() || token.len() > 1000 {
        return Err(AppError::invalid("token", t.enter_new_token));
    }
    let account_id = c.linked_account_id.clone().unwrap_or_default();
    verify_token(state, t, token, &account_id)
        .await
        .map_err(|e| match e {
            AppError::Invalid { field, .. } if field == "account_id" => {
                AppError::invalid("token", t.token_other_account)
            }
            other => other,
        })?;
    let c = async {
        let mut tx = state.db.begin().await?;
        tx.set_connection_linked(
            &c.org_id,
            &c.id,
            &account_id,
            &state.keyring.seal(token),
            &last4(token),
        )
        .await?;
        commit_audited(
            tx,
            who,
            AuditAction::ConnectionTokenReplaced,
            &c,
            format!("Token of {} replaced by the service desk", c.display_name),
        )
        .await
    }
    .await
    .map_err(stored(t))?;
    Ok(view(state, t, &c).await)
}
