//! Who is signed in; the dev sign-in and sign-out.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{DemoUser, Viewer},
};

/// The signed-in user, or `None`. Needs no permission.
#[server(endpoint = "session/whoami")]
pub async fn whoami() -> Result<Option<Viewer>, AppError> {
    let (state, identity) = crate::auth::current()?;
    Ok(identity.map(|i| i.viewer(state.settings.auth_mode)))
}

/// The demo users of the dev sign-in page; not found outside dev sign-in mode.
#[server(endpoint = "session/demo_users")]
pub async fn demo_users() -> Result<Vec<DemoUser>, AppError> {
    let state = crate::state::app_state()?;
    if state.settings.auth_mode != crate::state::AuthMode::DevSignIn {
        return Err(AppError::NotFound);
    }
    Ok(crate::auth::dev::demo_users())
}

/// Signs in as a demo user (dev sign-in mode only) and goes to the HRIS Integration page.
/// `organization` (optional) puts the demo user in a demo organization of that name instead of
/// their own: a fresh, empty organization for demos and end-to-end tests.
#[server(endpoint = "session/dev_sign_in")]
pub async fn dev_sign_in(user_id: String, organization: Option<String>) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    if state.settings.auth_mode != crate::state::AuthMode::DevSignIn {
        return Err(AppError::NotFound);
    }
    let mut identity = crate::auth::dev::demo_identity(&user_id)
        .ok_or_else(|| AppError::invalid("user_id", "There is no demo user with this id."))?;
    if let Some(org) = organization
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        identity = crate::auth::dev::in_organization(identity, org)?;
    }
    let cookie = crate::auth::session::start(&state, &identity).await?;
    expect_context::<leptos_axum::ResponseOptions>()
        .append_header(http::header::SET_COOKIE, cookie);
    tracing::info!(user = %identity.user_id, org = %identity.org_id, "dev sign-in");
    leptos_axum::redirect("/admin/integrations/hris");
    Ok(())
}

#[server(endpoint = "session/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let cookie = crate::auth::session::end(&state).await?;
    expect_context::<leptos_axum::ResponseOptions>()
        .append_header(http::header::SET_COOKIE, cookie);
    if state.settings.auth_mode == crate::state::AuthMode::DevSignIn {
        leptos_axum::redirect("/signin");
    }
    Ok(())
}

/// Signs in with a short-lived token from the admin shell (see `auth::host`); with `return_to` (a
/// path on this site) it then redirects there. Used as a form post from the
/// shell into the widget's iframe, or called with `fetch`. Refused (404) when no host-token key is
/// configured; production never has dev sign-in, dev may have both. `locale` (the shell's mount
/// option, optional) overrides the token's `locale` claim for this session.
#[server(endpoint = "session/host_sign_in")]
pub async fn host_sign_in(
    token: String,
    return_to: Option<String>,
    locale: Option<String>,
) -> Result<Viewer, AppError> {
    let state = crate::state::app_state()?;
    let Some(verifier) = state.host_tokens.clone() else {
        return Err(AppError::NotFound);
    };
    let now = crate::storage::now_ms() / 1000;
    let mut identity = verifier.verify(&token, now).map_err(|e| {
        tracing::warn!(reason = %e, "host token refused");
        AppError::Unauthenticated
    })?;
    if let Some(locale) = locale.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        identity.locale = crate::i18n::Locale::parse(locale).code().to_string();
    }
    let (identity, cookie) =
        crate::auth::session::start_with_host_token(&state, &token, identity).await?;
    if let Some(cookie) = cookie {
        expect_context::<leptos_axum::ResponseOptions>()
            .append_header(http::header::SET_COOKIE, cookie);
    }
    // A form post (no script) names where to go next; a `fetch` call gets the viewer as JSON.
    if let Some(target) = return_to
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let safe = target.starts_with('/')
            && !target.starts_with("//")
            && !target.contains('\\')
            && target.len() <= 200
            && !target.chars().any(char::is_control);
        leptos_axum::redirect(if safe {
            target
        } else {
            "/admin/integrations/hris"
        });
    }
    Ok(identity.viewer(state.settings.auth_mode))
}
