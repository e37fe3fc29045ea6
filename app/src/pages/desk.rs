//! `/desk`: the service-desk console. Issue 7-day magic links for an organization, follow them
//! (pending, used, expired, revoked), revoke, reveal the linked account's ID and token for handover,
//! and replace the token of a connection set up this way.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::desk::{
        desk_connections, desk_directory, desk_magic_links, desk_organizations, issue_magic_link,
        replace_connection_token, reveal_magic_link_token, revoke_magic_link,
    },
    components::{
        frame::Frame,
        notice::{ErrorNotice, SignedOutNotice},
    },
    error::AppError,
    i18n::use_texts,
    model::{
        ConnectionId, ConnectionView, MagicLinkId, MagicLinkStatus, MagicLinkView, OrganizationId,
        OrganizationOption,
    },
};

lazy_page!(
    /// The console as a lazily loaded route: agents are few, admins never pay for its code.
    DeskRoute => DeskPage
);

#[component]
pub fn DeskPage() -> impl IntoView {
    let orgs = Resource::new(|| (), |_| desk_organizations());
    let t = use_texts();
    view! {
        <Title text=t.desk_title/>
        <Frame>
            <h1>{t.desk_title}</h1>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match orgs.await {
                        Ok(list) => view! { <DeskConsole orgs=list/> }.into_any(),
                        Err(AppError::Unauthenticated) => view! { <SignedOutNotice/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// Copies text to the clipboard (hydrated pages only).
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else {
            return;
        };
        let navigator = js_sys::Reflect::get(&window, &"navigator".into()).ok();
        let clipboard = navigator.and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok());
        if let Some(clipboard) = clipboard.filter(|c| !c.is_undefined()) {
            if let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) {
                if let Ok(f) = write.dyn_into::<js_sys::Function>() {
                    let _ = f.call1(&clipboard, &text.into());
                }
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

#[component]
fn DeskConsole(orgs: Vec<OrganizationOption>) -> impl IntoView {
    let t = use_texts();
    let loading = move || view! { <p>{t.loading}</p> };
    let org = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let refresh = RwSignal::new(0u32);
    let created = RwSignal::new(None::<MagicLinkView>);
    let message = RwSignal::new(None::<(bool, String)>);
    // The console works once its code has loaded (a lazy chunk): until then its choices are shown
    // disabled, so that a choice made too early is not silently lost. Effects run only in the browser.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let copied = RwSignal::new(false);
    let directory = Resource::new(|| (), |_| desk_directory());
    let links = Resource::new(
        move || (org.get(), refresh.get()),
        |(o, _)| async move {
            if o.is_empty() {
                Ok(vec![])
            } else {
                desk_magic_links(o.into()).await
            }
        },
    );
    let connections = Resource::new(
        move || (org.get(), refresh.get()),
        |(o, _)| async move {
            if o.is_empty() {
                Ok(vec![])
            } else {
                desk_connections(o.into()).await
            }
        },
    );
    let report = move |r: Result<String, AppError>| {
        message.set(Some(match r {
            Ok(m) => (true, m),
            Err(e) => (false, e.message(t)),
        }));
        refresh.update(|n| *n += 1);
    };
    let issue = Action::new(move |(o, s): &(String, String)| {
        let (o, s) = (o.clone(), s.clone());
        async move {
            match issue_magic_link(o.into(), s).await {
                Ok(link) => {
                    copied.set(false);
                    created.set(Some(link));
                    report(Ok(t.desk_link_created.into()));
                }
                Err(e) => report(Err(e)),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        issue.dispatch((org.get_untracked(), slug.get_untracked()));
    };

    view! {
        <p role="status" class=move || if matches!(message.get(), Some((false, _))) { "status-line status-error" } else { "status-line" }>
            {move || message.get().map(|(_, m)| m)}
        </p>
        <section class="card" aria-labelledby="issue-heading">
            <h2 id="issue-heading">{t.desk_create_heading}</h2>
            <form on:submit=on_submit class="desk-form">
                <div class="field">
                    <label for="desk-org" class="field-label">{t.desk_organization}</label>
                    <select id="desk-org" class="input" disabled=move || !ready.get() on:change=move |ev| { created.set(None); org.set(event_target_value(&ev)) } prop:value=org>
                        <option value="" inner_html=t.desk_choose_org></option>
                        {orgs.into_iter().map(|o| view! { <option value=o.id.to_string()>{o.name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="desk-system" class="field-label">{t.desk_hr_system}</label>
                    <select id="desk-system" class="input" disabled=move || !ready.get() on:change=move |ev| slug.set(event_target_value(&ev)) prop:value=slug>
                        <option value="" inner_html=t.desk_any_system_choice></option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                directory.await.unwrap_or_default().into_iter()
                                    .map(|e| view! { <option value=e.slug>{e.name}</option> })
                                    .collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <button type="submit" class="button" disabled=move || org.get().is_empty() || issue.pending().get()>
                    {t.desk_create_button}
                </button>
            </form>
            {move || created.get().map(|link| {
                let url = link.url.clone().unwrap_or_default();
                let url_copy = url.clone();
                view! {
                    <div class="created-link">
                        <label for="created-url" class="field-label">{t.desk_magic_link}</label>
                        <input id="created-url" class="input" readonly value=url/>
                        <button type="button" class="button" on:click=move |_| { copy_to_clipboard(&url_copy); copied.set(true); }>
                            {t.desk_copy_link}
                        </button>
                        <span class="muted" aria-live="polite">{move || copied.get().then_some(t.desk_copied)}</span>
                        <p class="muted">{(t.desk_issued_line)(&link.issued_by, &link.issued_at, &link.expires_at)}</p>
                    </div>
                }
            })}
        </section>
        <section class="card" aria-labelledby="links-heading">
            <h2 id="links-heading">{t.desk_links_heading}</h2>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.desk_no_links}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col">{t.col_system}</th>
                                        <th scope="col">{t.col_issued}</th>
                                        <th scope="col">{t.col_expires}</th>
                                        <th scope="col">{t.col_status}</th>
                                        <th scope="col">{t.col_id}</th>
                                        <th scope="col">{t.col_actions}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|link| view! { <MagicLinkRow link report/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card" aria-labelledby="desk-connections-heading">
            <h2 id="desk-connections-heading">{t.desk_connections_heading}</h2>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match connections.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.desk_no_connections}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="connections">
                                {list.into_iter().map(|c| view! { <ReplaceToken c org=org.get_untracked() report/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn MagicLinkRow(
    link: MagicLinkView,
    report: impl Fn(Result<String, AppError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = use_texts();
    let token = RwSignal::new(None::<String>);
    let (org, id) = (link.organization_id.clone(), link.id.clone());
    let revoke = Action::new(move |(o, i): &(OrganizationId, MagicLinkId)| {
        let (o, i) = (o.clone(), i.clone());
        async move {
            report(
                revoke_magic_link(o, i)
                    .await
                    .map(|_| t.desk_link_revoked.to_string()),
            )
        }
    });
    let reveal = Action::new(move |(o, i): &(OrganizationId, MagicLinkId)| {
        let (o, i) = (o.clone(), i.clone());
        async move {
            match reveal_magic_link_token(o, i).await {
                Ok(t) => token.set(Some(t)),
                Err(e) => report(Err(e)),
            }
        }
    });
    let system = link
        .provider_name
        .clone()
        .unwrap_or_else(|| t.desk_any_system.into());
    let status = link.status;
    let (org2, id2) = (org.clone(), id.clone());
    view! {
        <tr>
            <td>{system}</td>
            <td>{link.issued_at.clone()}<br/><span class="muted">{(t.desk_by)(&link.issued_by)}</span></td>
            <td>{link.expires_at.clone()}</td>
            <td><span class=format!("badge badge-link-{}", status.label().to_lowercase())>{t.magic_link_status(status)}</span></td>
            <td><code>{link.linked_account_id.as_ref().map(ToString::to_string).unwrap_or_default()}</code></td>
            <td>
                {(status == MagicLinkStatus::Pending).then(|| view! {
                    <button type="button" class="button button-quiet" disabled=move || revoke.pending().get()
                        on:click=move |_| { revoke.dispatch((org.clone(), id.clone())); }>
                        {t.revoke}
                    </button>
                })}
                {link.token_available.then(|| view! {
                    <button type="button" class="button button-quiet" disabled=move || reveal.pending().get() || token.get().is_some()
                        on:click=move |_| { reveal.dispatch((org2.clone(), id2.clone())); }>
                        {t.reveal_token}
                    </button>
                })}
                {move || token.get().map(|tok| view! { <p class="token">{t.token_prefix}<code>{tok}</code></p> })}
            </td>
        </tr>
    }
}

#[component]
fn ReplaceToken(
    c: ConnectionView,
    org: String,
    report: impl Fn(Result<String, AppError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = use_texts();
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let id = c.id.clone();
    let input_id = format!("replace-{}", c.id);
    let replace = Action::new(move |(o, i, tok): &(String, ConnectionId, String)| {
        let (o, i, tok) = (o.clone(), i.clone(), tok.clone());
        async move {
            match replace_connection_token(o.into(), i, tok).await {
                Ok(v) => {
                    token.set(String::new());
                    error.set(None);
                    report(Ok((t.token_replaced)(&v.name)));
                }
                Err(AppError::Invalid { message, .. }) => error.set(Some(message)),
                Err(e) => report(Err(e)),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        replace.dispatch((org.clone(), id.clone(), token.get_untracked()));
    };
    view! {
        <li class="connection">
            <div class="connection-main">
                <h3 class="connection-name">{c.name.clone()}</h3>
                <p class="muted">{(t.desk_id_line)(c.linked_account_id.as_ref().map_or("", |a| a.as_str()))}</p>
                <form on:submit=on_submit class="replace-form">
                    <label for=input_id.clone() class="field-label">{(t.new_token_for)(&c.name)}</label>
                    <input id=input_id.clone() class="input" type="password" autocomplete="off" bind:value=token
                        aria-describedby=format!("{input_id}-error") aria-invalid=move || error.get().is_some().to_string()/>
                    <p id=format!("{input_id}-error") class="field-error">{move || error.get()}</p>
                    <button type="submit" class="button" disabled=move || replace.pending().get()>{t.replace_token}</button>
                </form>
            </div>
        </li>
    }
}
