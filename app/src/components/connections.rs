//! "Connected HRIS systems": each connection with its HR system, status, health and date, and its
//! menu (Activate / Deactivate, Test Connection, Relink Flow, Delete). Unfinished connections offer
//! Continue setup and Remove.

use leptos::prelude::*;

use crate::{
    api::connections::{
        activate_connection, deactivate_connection, delete_connection, test_connection,
    },
    components::{
        connect::LinkTarget,
        host::{self, HostEvent},
    },
    error::AppError,
    i18n::use_texts,
    model::{ConnectionId, ConnectionKind, ConnectionView, Deletion, Lifecycle},
};

/// What the connection panel shares with its parts: the status line, the list's refresh, the Link
/// dialog, and the language failures are worded in.
#[derive(Clone, Copy)]
pub struct Panel {
    pub texts: &'static crate::i18n::Texts,
    pub status: RwSignal<Option<(bool, String)>>,
    pub refresh: RwSignal<u32>,
    pub link_dialog: RwSignal<Option<LinkTarget>>,
}

impl Panel {
    /// Shows an action's outcome and reloads the list; failures also reach the host shell.
    pub fn report(self, outcome: Result<String, AppError>) {
        self.status.set(Some(match outcome {
            Ok(message) => (true, message),
            Err(e) => {
                let message = e.message(self.texts);
                host::emit(&HostEvent {
                    kind: "error",
                    message: Some(message.clone()),
                    ..Default::default()
                });
                (false, message)
            }
        }));
        self.refresh.update(|n| *n += 1);
    }

    /// Like `report`, and passes the event of a success to the host shell.
    pub fn report_event(self, outcome: Result<(String, HostEvent), AppError>) {
        self.report(outcome.map(|(message, event)| {
            host::emit(&event);
            message
        }))
    }
}

/// The live region announcing the last action's outcome.
#[component]
pub fn StatusLine() -> impl IntoView {
    let panel = expect_context::<Panel>();
    view! {
        <p
            role="status"
            class=move || match panel.status.get() {
                Some((false, _)) => "status-line status-error",
                _ => "status-line",
            }
        >
            {move || panel.status.get().map(|(_, m)| m)}
        </p>
    }
}

#[component]
pub fn ConnectionList(connections: Vec<ConnectionView>, kind: ConnectionKind) -> impl IntoView {
    let active = connections
        .iter()
        .find(|c| c.enabled)
        .map(|c| c.name.clone());
    let mine: Vec<ConnectionView> = connections.into_iter().filter(|c| c.kind == kind).collect();
    if mine.is_empty() {
        let t = use_texts();
        let empty = match kind {
            ConnectionKind::Direct => t.none_connected,
            ConnectionKind::Manual => t.none_other_connected,
        };
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <ul class="connections">
            {mine
                .into_iter()
                .map(|c| {
                    let other_active = active.clone().filter(|a| *a != c.name);
                    view! { <ConnectionItem c other_active/> }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirm {
    Activate,
    Delete,
}

#[component]
fn ConnectionItem(c: ConnectionView, other_active: Option<String>) -> impl IntoView {
    let panel = expect_context::<Panel>();
    let t = use_texts();
    let menu_open = RwSignal::new(false);
    let confirm = RwSignal::new(None::<Confirm>);
    let name = c.name.clone();

    let test = Action::new(move |id: &ConnectionId| {
        let id = id.clone();
        async move {
            panel.report_event(test_connection(id).await.map(|o| {
                let message = if o.ok {
                    (t.test_succeeded)(&o.message, &o.checked_at)
                } else {
                    (t.test_failed)(&o.message, &o.checked_at)
                };
                let event = HostEvent {
                    ok: Some(o.ok),
                    message: Some(o.message.clone()),
                    ..HostEvent::about("tested", o.connection.id.as_str(), &o.connection.name)
                };
                (message, event)
            }))
        }
    });
    let activate = Action::new(move |id: &ConnectionId| {
        let id = id.clone();
        async move {
            panel.report_event(activate_connection(id).await.map(|v| {
                (
                    (t.now_active)(&v.name),
                    HostEvent::about("activated", v.id.as_str(), &v.name),
                )
            }))
        }
    });
    let deactivate = Action::new(move |id: &ConnectionId| {
        let id = id.clone();
        async move {
            panel.report_event(deactivate_connection(id).await.map(|v| {
                (
                    (t.deactivated)(&v.name),
                    HostEvent::about("deactivated", v.id.as_str(), &v.name),
                )
            }))
        }
    });
    let delete = Action::new(move |(id, name): &(ConnectionId, String)| {
        let (id, name) = (id.clone(), name.clone());
        async move {
            panel.report_event(delete_connection(id.clone()).await.map(|d| {
                (
                    match d {
                        Deletion::Revoked => (t.deleted)(&name),
                        Deletion::AlreadyGoneAtProvider => (t.deleted_already_gone)(&name),
                    },
                    HostEvent::about("deleted", id.as_str(), &name),
                )
            }))
        }
    });
    let busy = Signal::derive(move || {
        test.pending().get()
            || activate.pending().get()
            || deactivate.pending().get()
            || delete.pending().get()
    });

    let id = c.id.clone();
    let menu_id = format!("menu-{}", c.id);
    let pending = c.lifecycle == Lifecycle::PendingLink;
    // (CSS class, words)
    let (status_class, status) = if pending {
        ("setup-not-finished", t.status_pending)
    } else if c.enabled {
        ("active", t.status_active)
    } else {
        ("inactive", t.status_inactive)
    };
    let health = c.health;
    let health_line = match (&c.checked_at, &c.health_detail) {
        (Some(at), Some(detail)) => Some((t.last_check)(at, detail)),
        (None, Some(detail)) => Some(detail.clone()),
        _ => None,
    };
    let logo = c.logo_url.clone();
    let system = c
        .provider_name
        .clone()
        .or(c.provider_slug.clone())
        .unwrap_or_default();

    let actions = if pending {
        let (id1, name2) = (id.clone(), name.clone());
        view! {
            <div class="connection-actions">
                <button
                    type="button"
                    class="button"
                    disabled=busy
                    on:click=move |_| panel.link_dialog.set(Some(LinkTarget::Existing { id: id1.clone(), name: name2.clone(), relink: false }))
                >
                    {t.continue_setup}
                </button>
                <button type="button" class="button button-quiet" disabled=busy on:click=move |_| confirm.set(Some(Confirm::Delete))>
                    {t.remove}
                </button>
            </div>
        }
        .into_any()
    } else {
        let enabled = c.enabled;
        let (id_t, id_d, id_r, name_r) = (id.clone(), id.clone(), id.clone(), name.clone());
        let has_other = other_active.is_some();
        let id_a = id.clone();
        view! {
            <div class="connection-actions">
                <button
                    type="button"
                    class="button button-quiet menu-button"
                    aria-label=(t.actions_for)(&name)
                    aria-expanded=move || menu_open.get().to_string()
                    aria-controls=menu_id.clone()
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    ">"
                </button>
                <ul class="menu" id=menu_id.clone() hidden=move || !menu_open.get()>
                    <li>
                        {if enabled {
                            view! {
                                <button type="button" class="menu-item" disabled=busy on:click=move |_| { menu_open.set(false); deactivate.dispatch(id_d.clone()); }>
                                    {t.deactivate}
                                </button>
                            }.into_any()
                        } else {
                            view! {
                                <button type="button" class="menu-item" disabled=busy on:click=move |_| {
                                    menu_open.set(false);
                                    if has_other { confirm.set(Some(Confirm::Activate)) } else { activate.dispatch(id_a.clone()); }
                                }>
                                    {t.activate}
                                </button>
                            }.into_any()
                        }}
                    </li>
                    <li>
                        <button type="button" class="menu-item" disabled=busy on:click=move |_| { menu_open.set(false); test.dispatch(id_t.clone()); }>
                            {t.test_connection}
                        </button>
                    </li>
                    {(c.kind == ConnectionKind::Direct).then(|| view! {
                        <li>
                            <button type="button" class="menu-item" disabled=busy on:click=move |_| {
                                menu_open.set(false);
                                panel.link_dialog.set(Some(LinkTarget::Existing { id: id_r.clone(), name: name_r.clone(), relink: true }));
                            }>
                                {t.relink_flow}
                            </button>
                        </li>
                    })}
                    <li>
                        <button type="button" class="menu-item menu-danger" disabled=busy on:click=move |_| { menu_open.set(false); confirm.set(Some(Confirm::Delete)); }>
                            {t.delete}
                        </button>
                    </li>
                </ul>
            </div>
        }
        .into_any()
    };

    let (confirm_name, confirm_id, other) = (name.clone(), id.clone(), other_active.clone());
    view! {
        <li class="connection" aria-busy=move || busy.get().to_string()>
            {match logo {
                Some(src) => view! { <img class="logo" src=src alt="" width="40" height="40"/> }.into_any(),
                None => view! { <span class="logo logo-blank" aria-hidden="true"></span> }.into_any(),
            }}
            <div class="connection-main">
                <h3 class="connection-name">{name.clone()}</h3>
                <p class="muted">{(t.created_line)(&system, &c.created_at)}</p>
                <p class="connection-status">
                    <span class=format!("badge badge-{status_class}")>{status}</span>
                    {(!pending).then(|| view! {
                        <span class=format!("health health-{}", health.as_str())>{t.health(health)}</span>
                    })}
                    {move || busy.get().then(|| view! { <span class="muted">{t.working}</span> })}
                </p>
                {health_line.map(|l| view! { <p class="health-detail">{l}</p> })}
                {c.provider_status.clone().map(|s| view! { <p class="health-detail">{(t.merge_status)(&s)}</p> })}
                {(c.kind == ConnectionKind::Manual).then(|| view! {
                    <p class="health-detail">{t.manual_note}</p>
                })}
                {c.linked_account_id.clone().map(|a| view! { <p class="health-detail">{(t.account_id_line)(a.as_str())}</p> })}
            </div>
            {actions}
            {move || confirm.get().map(|kind| {
                let (name, id, other) = (confirm_name.clone(), confirm_id.clone(), other.clone());
                let (title, body, yes) = match kind {
                    Confirm::Delete => (
                        (t.confirm_delete_title)(&name),
                        t.confirm_delete_body.to_string(),
                        if pending { t.remove } else { t.delete },
                    ),
                    Confirm::Activate => (
                        (t.confirm_activate_title)(&name),
                        (t.confirm_activate_body)(&other.unwrap_or_default(), &name),
                        t.activate,
                    ),
                };
                view! {
                    <ConfirmDialog title body yes on_yes=move || {
                        confirm.set(None);
                        match kind {
                            Confirm::Delete => { delete.dispatch((id.clone(), name.clone())); }
                            Confirm::Activate => { activate.dispatch(id.clone()); }
                        }
                    } on_no=move || confirm.set(None)/>
                }
            })}
        </li>
    }
}

/// A modal question with a yes and a Cancel button; Escape cancels.
#[component]
pub fn ConfirmDialog(
    title: String,
    body: String,
    yes: &'static str,
    on_yes: impl Fn() + Send + Sync + 'static,
    on_no: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let on_no_key = on_no.clone();
    let t = use_texts();
    view! {
        <div class="dialog-backdrop">
            <div
                class="dialog"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="confirm-title"
                aria-describedby="confirm-body"
                on:keydown=move |ev| if ev.key() == "Escape" { on_no_key() }
            >
                <h2 id="confirm-title">{title}</h2>
                <p id="confirm-body">{body}</p>
                <div class="dialog-actions">
                    <button type="button" class="button" autofocus on:click=move |_| on_yes()>{yes}</button>
                    <button type="button" class="button button-quiet" on:click=move |_| on_no()>{t.cancel}</button>
                </div>
            </div>
        </div>
    }
}
