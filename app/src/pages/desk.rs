//! `/desk`: the service-desk console. Issue 7-day magic links for an organization, follow them
//! (pending, used, expired, revoked), revoke, reveal the linked account's ID and token for handover,
//! and replace the token of a connection set up this way.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::desk::{
        desk_connections, desk_directory, desk_magic_links, desk_organizations, IssueMagicLink,
        ReplaceConnectionToken, RevealMagicLinkToken, RevokeMagicLink,
    },
    components::{
        connections::when_done,
        frame::Frame,
        notice::{ErrorNotice, SignedOutNotice},
        timeline::Timeline,
        webhook_log::WebhookLog,
    },
    error::AppError,
    i18n::use_texts,
    model::{ConnectionId, ConnectionView, MagicLinkStatus, MagicLinkView, OrganizationOption},
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
    let created = RwSignal::new(None::<MagicLinkView>);
    let message = RwSignal::new(None::<(bool, String)>);
    // The console works once its code has loaded (a lazy chunk): until then its choices are shown
    // disabled, so that a choice made too early is not silently lost. Effects run only in the browser.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let copied = RwSignal::new(false);
    // Every change is one of these actions, sent by its form; the lists reload when one finishes.
    let actions = DeskActions {
        issue: ServerAction::new(),
        revoke: ServerAction::new(),
        replace: ServerAction::new(),
        replace_error: RwSignal::new(None),
    };
    let changes = move || {
        actions.issue.version().get()
            + actions.revoke.version().get()
            + actions.replace.version().get()
    };
    let directory = Resource::new(|| (), |_| desk_directory());
    let links = Resource::new(
        move || (org.get(), changes()),
        |(o, _)| async move {
            if o.is_empty() {
                Ok(vec![])
            } else {
                desk_magic_links(o.into()).await
            }
        },
    );
    let connections = Resource::new(
        move || (org.get(), changes()),
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
    };
    when_done(actions.issue, move |_, r| match r {
        Ok(link) => {
            copied.set(false);
            created.set(Some(link));
            report(Ok(t.desk_link_created.into()));
        }
        Err(e) => report(Err(e)),
    });
    when_done(actions.revoke, move |_, r| {
        report(r.map(|_| t.desk_link_revoked.to_string()))
    });
    when_done(actions.replace, move |input, r| match r {
        Ok(v) => {
            actions.replace_error.set(None);
            report(Ok((t.token_replaced)(&v.name)));
        }
        Err(AppError::Invalid { message, .. }) => {
            actions.replace_error.set(Some((input.id, message)))
        }
        Err(e) => report(Err(e)),
    });
    let issue = actions.issue;

    view! {
        <p role="status" class=move || if matches!(message.get(), Some((false, _))) { "status-line status-error" } else { "status-line" }>
            {move || message.get().map(|(_, m)| m)}
        </p>
        <section class="card" aria-labelledby="issue-heading">
            <h2 id="issue-heading">{t.desk_create_heading}</h2>
            <ActionForm action=issue attr:class="desk-form">
                <div class="field">
                    <label for="desk-org" class="field-label">{t.desk_organization}</label>
                    <select id="desk-org" name="org_id" class="input" disabled=move || !ready.get() on:change=move |ev| { created.set(None); org.set(event_target_value(&ev)) } prop:value=org>
                        <option value="" inner_html=t.desk_choose_org></option>
                        {orgs.into_iter().map(|o| view! { <option value=o.id.to_string()>{o.name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="desk-system" class="field-label">{t.desk_hr_system}</label>
                    <select id="desk-system" name="slug" class="input" disabled=move || !ready.get() on:change=move |ev| slug.set(event_target_value(&ev)) prop:value=slug>
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
            </ActionForm>
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
                                    {list.into_iter().map(|link| view! { <MagicLinkRow link revoke=actions.revoke report/> }).collect_view()}
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
                                {list.into_iter().map(|c| view! { <ReplaceToken c org=org.get_untracked() actions/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {move || {
            let o = org.get();
            (!o.is_empty()).then(|| view! { <Timeline org=o.into() refresh=Signal::derive(changes)/> })
        }}
        <WebhookLog/>
    }
}

/// The console's actions that change its lists.
#[derive(Clone, Copy)]
struct DeskActions {
    issue: ServerAction<IssueMagicLink>,
    revoke: ServerAction<RevokeMagicLink>,
    replace: ServerAction<ReplaceConnectionToken>,
    /// A refused replacement token: the connection's id and why.
    replace_error: RwSignal<Option<(ConnectionId, String)>>,
}

#[component]
fn MagicLinkRow(
    link: MagicLinkView,
    revoke: ServerAction<RevokeMagicLink>,
    report: impl Fn(Result<String, AppError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = use_texts();
    let reveal = ServerAction::<RevealMagicLinkToken>::new();
    when_done(reveal, move |_, r| {
        if let Err(e) = r {
            report(Err(e))
        }
    });
    let token = move || reveal.value().get().and_then(Result::ok);
    let (org, id) = (link.organization_id.clone(), link.id.clone());
    let revoking = {
        let id = id.clone();
        move || {
            revoke
                .input()
                .with(|i| i.as_ref().is_some_and(|i| i.id == id))
        }
    };
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
                    <ActionForm action=revoke attr:class="inline-form">
                        <input type="hidden" name="org_id" value=org.to_string()/>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="button button-quiet" disabled=revoking>{t.revoke}</button>
                    </ActionForm>
                })}
                {link.token_available.then(|| view! {
                    <ActionForm action=reveal attr:class="inline-form">
                        <input type="hidden" name="org_id" value=org2.to_string()/>
                        <input type="hidden" name="id" value=id2.to_string()/>
                        <button type="submit" class="button button-quiet" disabled=move || reveal.pending().get() || token().is_some()>
                            {t.reveal_token}
                        </button>
                    </ActionForm>
                })}
                {move || token().map(|tok| view! { <p class="token">{t.token_prefix}<code>{tok}</code></p> })}
            </td>
        </tr>
    }
}

#[component]
fn ReplaceToken(c: ConnectionView, org: String, actions: DeskActions) -> impl IntoView {
    let t = use_texts();
    let replace = actions.replace;
    let input_id = format!("replace-{}", c.id);
    let error = {
        let id = c.id.clone();
        move || {
            actions
                .replace_error
                .get()
                .filter(|(i, _)| *i == id)
                .map(|(_, m)| m)
        }
    };
    let error2 = error.clone();
    view! {
        <li class="connection">
            <div class="connection-main">
                <h3 class="connection-name">{c.name.clone()}</h3>
                <p class="muted">{(t.desk_id_line)(&c.linked_account_id.clone().unwrap_or_default())}</p>
                <ActionForm action=replace attr:class="replace-form">
                    <input type="hidden" name="org_id" value=org.to_string()/>
                    <input type="hidden" name="id" value=c.id.to_string()/>
                    <label for=input_id.clone() class="field-label">{(t.new_token_for)(&c.name)}</label>
                    <input id=input_id.clone() name="token" class="input" type="password" autocomplete="off"
                        aria-describedby=format!("{input_id}-error") aria-invalid=move || error2().is_some().to_string()/>
                    <p id=format!("{input_id}-error") class="field-error">{error}</p>
                    <button type="submit" class="button" disabled=move || replace.pending().get()>{t.replace_token}</button>
                </ActionForm>
            </div>
        </li>
    }
}
