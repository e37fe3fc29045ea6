use leptos::prelude::*;

use crate::{error::AppError, i18n::use_texts};

/// An error, in the words users see, announced to screen readers.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let message = error.message(use_texts());
    view! { <p class="notice notice-error" role="alert">{message}</p> }
}

/// What to show when an action's last result was an error.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value
            .get()
            .and_then(|r| r.err())
            .map(|error| view! { <ErrorNotice error/> })
    }
}

/// "You are not signed in, or your session has expired. Sign in" (a link to the sign-in page).
#[component]
pub fn SignedOutNotice() -> impl IntoView {
    let t = use_texts();
    view! {
        <p class="notice" role="alert">
            {t.not_signed_in}
            <a href=crate::components::localized::href("/signin")>{t.sign_in}</a>
        </p>
    }
}
