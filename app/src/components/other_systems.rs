//! Manual setup, the admin's side: the "Other HR systems" box (Name, ID, Token → Add connection).
//! A form of the panel's `add_manual` action: it works without script too, and a refusal is shown
//! beside its field either way.

use leptos::prelude::*;

use crate::{
    components::connections::{when_done, Panel},
    error::AppError,
    i18n::use_texts,
};

#[component]
pub fn OtherSystemsForm() -> impl IntoView {
    let panel = expect_context::<Panel>();
    let add = panel.actions.add_manual;
    let t = use_texts();
    let name = RwSignal::new(String::new());
    let account_id = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    // The last refusal, by field ("form": not about one field).
    let error = move || match add.value().get() {
        Some(Err(AppError::Invalid { field, message })) => Some((field, message)),
        Some(Err(e)) => Some(("form".to_string(), e.message(t))),
        _ => None,
    };
    let error_for =
        move |field: &'static str| move || error().filter(|(f, _)| f == field).map(|(_, m)| m);
    let invalid =
        move |field: &'static str| move || error().is_some_and(|(f, _)| f == field).to_string();
    when_done(add, move |_, result| {
        if result.is_ok() {
            name.set(String::new());
            account_id.set(String::new());
            token.set(String::new());
        }
    });
    let field = move |id: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      value: RwSignal<String>,
                      key: &'static str| {
        view! {
            <div class="field">
                <label for=id class="field-label">{label}</label>
                <input
                    id=id
                    name=key
                    class="input"
                    type=kind
                    autocomplete="off"
                    spellcheck="false"
                    bind:value=value
                    aria-invalid=invalid(key)
                    aria-describedby=format!("{id}-error")
                />
                <p id=format!("{id}-error") class="field-error">{error_for(key)}</p>
            </div>
        }
    };
    view! {
        <p>{t.other_intro}</p>
        <ActionForm action=add attr:class="other-form">
            {field("other-name", t.field_name, "text", name, "name")}
            {field("other-id", t.field_id, "text", account_id, "account_id")}
            {field("other-token", t.field_token, "password", token, "token")}
            <p class="field-error" role="alert">{error_for("form")}</p>
            <button type="submit" class="button" disabled=move || add.pending().get()>{t.add_connection}</button>
            <span class="muted" aria-live="polite">{move || add.pending().get().then_some(t.checking_with_merge)}</span>
        </ActionForm>
    }
}
