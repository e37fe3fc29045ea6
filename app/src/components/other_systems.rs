//! Manual setup, the admin's side: the "Other HR systems" box (Name, ID, Token → Add connection).

use leptos::prelude::*;

use crate::{
    api::connections::add_manual_connection, components::connections::Panel, error::AppError,
    i18n::use_texts,
};

#[component]
pub fn OtherSystemsForm() -> impl IntoView {
    let panel = expect_context::<Panel>();
    let t = use_texts();
    let name = RwSignal::new(String::new());
    let account_id = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let error_for = move |field: &'static str| {
        move || {
            errors
                .get()
                .into_iter()
                .find(|(f, _)| f == field)
                .map(|(_, m)| m)
        }
    };
    let invalid =
        move |field: &'static str| move || errors.get().iter().any(|(f, _)| f == field).to_string();

    let add = Action::new(move |(n, a, tok): &(String, String, String)| {
        let (n, a, tok) = (n.clone(), a.clone(), tok.clone());
        async move {
            match add_manual_connection(n, a, tok).await {
                Ok(v) => {
                    errors.set(vec![]);
                    name.set(String::new());
                    account_id.set(String::new());
                    token.set(String::new());
                    panel.report(Ok((t.was_added)(&v.name)));
                }
                Err(AppError::Invalid { field, message }) => errors.set(vec![(field, message)]),
                Err(e) => errors.set(vec![("form".into(), e.message(t))]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch((
            name.get_untracked(),
            account_id.get_untracked(),
            token.get_untracked(),
        ));
    };
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
        <form class="other-form" on:submit=on_submit>
            {field("other-name", t.field_name, "text", name, "name")}
            {field("other-id", t.field_id, "text", account_id, "account_id")}
            {field("other-token", t.field_token, "password", token, "token")}
            <p class="field-error" role="alert">{error_for("form")}</p>
            <button type="submit" class="button" disabled=move || add.pending().get()>{t.add_connection}</button>
            <span class="muted" aria-live="polite">{move || add.pending().get().then_some(t.checking_with_merge)}</span>
        </form>
    }
}
