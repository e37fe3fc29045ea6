//! "Connected HRIS systems": each connection with its HR system, status, health and date, and its
//! menu (Activate / Deactivate, Test Connection, Relink Flow, Delete). Unfinished connections offer
//! Continue setup and Remove.
//!
//! Every change is a `ServerAction` posted by an `ActionForm`: with script the form is sent in the
//! background; without it the browser posts it and comes back to the page, where a refused call's
//! error (carried in the address) is shown. The `>` menu is a `<details>`; the questions before
//! Delete and before replacing the active connection are page addresses (`?confirm=`) without script.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_query_map;

use crate::{
    api::connections::{
        ActivateConnection, AddManualConnection, DeactivateConnection, DeleteConnection,
        FinishLink, LinkAgain, StartConnection, TestConnection,
    },
    api::sync::{CancelSwitch, ConfirmSwitch, SwitchSource},
    components::{
        connect::LinkTarget,
        host::{self, HostEvent},
    },
    error::AppError,
    i18n::use_texts,
    model::{
        Activation, ConnectionId, ConnectionKind, ConnectionView, Deletion, Lifecycle,
        SwitchPreview,
    },
};

/// The mutations of the connections panel, one `ServerAction` each, shared by all its forms.
#[derive(Clone, Copy)]
pub struct Actions {
    pub test: ServerAction<TestConnection>,
    pub activate: ServerAction<ActivateConnection>,
    pub deactivate: ServerAction<DeactivateConnection>,
    pub delete: ServerAction<DeleteConnection>,
    pub add_manual: ServerAction<AddManualConnection>,
    pub start: ServerAction<StartConnection>,
    pub link_again: ServerAction<LinkAgain>,
    pub finish: ServerAction<FinishLink>,
    /// Activate while another connection feeds the directory: a preview first.
    pub switch: ServerAction<SwitchSource>,
    pub confirm_switch: ServerAction<ConfirmSwitch>,
    pub cancel_switch: ServerAction<CancelSwitch>,
}

impl Actions {
    pub fn new() -> Self {
        Actions {
            test: ServerAction::new(),
            activate: ServerAction::new(),
            deactivate: ServerAction::new(),
            delete: ServerAction::new(),
            add_manual: ServerAction::new(),
            start: ServerAction::new(),
            link_again: ServerAction::new(),
            finish: ServerAction::new(),
            switch: ServerAction::new(),
            confirm_switch: ServerAction::new(),
            cancel_switch: ServerAction::new(),
        }
    }

    /// Grows each time an action that may change the list finishes: the list reloads from it.
    pub fn versions(self) -> usize {
        self.test.version().get()
            + self.activate.version().get()
            + self.deactivate.version().get()
            + self.delete.version().get()
            + self.add_manual.version().get()
            + self.start.version().get()
            + self.finish.version().get()
            + self.switch.version().get()
            + self.confirm_switch.version().get()
    }

    /// The refusal of the menu's last action as it came back with the page (a form posted without
    /// script), if any.
    fn refusal(self) -> Option<AppError> {
        fn err<T>(v: Option<Result<T, AppError>>) -> Option<AppError> {
            v.and_then(Result::err)
        }
        err(self.test.value().get_untracked())
            .or_else(|| err(self.activate.value().get_untracked()))
            .or_else(|| err(self.deactivate.value().get_untracked()))
            .or_else(|| err(self.delete.value().get_untracked()))
    }
}

impl Default for Actions {
    fn default() -> Self {
        Self::new()
    }
}

/// Calls `done` with the input and the result of each call of `action` that finishes. Effects run
/// in the browser only: a form posted without script is answered by the next page instead.
pub fn when_done<S>(
    action: ServerAction<S>,
    done: impl Fn(S, Result<S::Output, AppError>) + 'static,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let last = StoredValue::new(None::<S>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last.set_value(Some(input));
        }
    });
    Effect::watch(
        move || action.version().get(),
        move |_, _, _| {
            if let (Some(input), Some(result)) = (last.get_value(), action.value().get_untracked())
            {
                done(input, result);
            }
        },
        false,
    );
}

/// What the connection panel shares with its parts: the status line, the actions, the Link
/// dialog, the language failures are worded in, and whether the page runs its script yet.
#[derive(Clone, Copy)]
pub struct Panel {
    pub texts: &'static crate::i18n::Texts,
    pub status: RwSignal<Option<(bool, String)>>,
    pub link_dialog: RwSignal<Option<LinkTarget>>,
    pub actions: Actions,
    /// The connections last shown, for naming a deleted one.
    pub shown: StoredValue<Vec<ConnectionView>>,
    /// True once the page is hydrated (effects run in the browser only).
    pub scripted: RwSignal<bool>,
    /// Grows when the health watch's banners changed while the page is open, so that the list
    /// shows the health the banners speak of.
    pub health_changes: RwSignal<usize>,
    /// The preview of switching the directory's source, with the connection's name, while it
    /// waits for Confirm or Cancel.
    pub preview: RwSignal<Option<(SwitchPreview, String)>>,
}

impl Panel {
    /// The panel of a page; shows the outcome of each action in the status line and passes it to
    /// the host shell.
    pub fn new() -> Self {
        let texts = use_texts();
        let t = texts;
        let actions = Actions::new();
        let panel = Panel {
            texts,
            status: RwSignal::new(actions.refusal().map(|e| (false, e.message(t)))),
            link_dialog: RwSignal::new(None),
            actions,
            shown: StoredValue::new(Vec::new()),
            scripted: RwSignal::new(false),
            health_changes: RwSignal::new(0),
            preview: RwSignal::new(None),
        };
        Effect::new(move |_| panel.scripted.set(true));
        when_done(actions.test, move |_, r| {
            panel.report_event(r.map(|o| {
                let message = if o.ok {
                    (t.test_succeeded)(&o.message, &o.checked_at)
                } else {
                    (t.test_failed)(&o.message, &o.checked_at)
                };
                let event = HostEvent {
                    ok: Some(o.ok),
                    message: Some(o.message.clone()),
                    ..HostEvent::about("tested", &o.connection.id, &o.connection.name)
                };
                (message, event)
            }))
        });
        when_done(actions.activate, move |_, r| {
            panel.report_event(r.map(|v| {
                (
                    (t.now_active)(&v.name),
                    HostEvent::about("activated", &v.id, &v.name),
                )
            }))
        });
        let name_of = move |id: &ConnectionId| {
            panel
                .shown
                .with_value(|list| list.iter().find(|c| c.id == *id).map(|c| c.name.clone()))
                .unwrap_or_default()
        };
        when_done(actions.switch, move |input, r| match r {
            Ok(Activation::Preview(p)) => panel.preview.set(Some((p, name_of(&input.id)))),
            Ok(Activation::Activated(v)) => panel.report_event(Ok((
                (t.now_active)(&v.name),
                HostEvent::about("activated", &v.id, &v.name),
            ))),
            Err(e) => panel.report(Err(e)),
        });
        when_done(actions.confirm_switch, move |_, r| {
            panel.preview.set(None);
            panel.report_event(r.map(|v| {
                (
                    (t.now_active)(&v.name),
                    HostEvent::about("activated", &v.id, &v.name),
                )
            }))
        });
        when_done(actions.cancel_switch, move |_, r| {
            let name = panel
                .preview
                .get_untracked()
                .map(|(_, n)| n)
                .unwrap_or_default();
            panel.preview.set(None);
            panel.report(r.map(|_| (t.switch_cancelled)(&name)));
        });
        when_done(actions.deactivate, move |_, r| {
            panel.report_event(r.map(|v| {
                (
                    (t.deactivated)(&v.name),
                    HostEvent::about("deactivated", &v.id, &v.name),
                )
            }))
        });
        when_done(actions.delete, move |input, r| {
            let name = panel
                .shown
                .with_value(|list| {
                    list.iter()
                        .find(|c| c.id == input.id)
                        .map(|c| c.name.clone())
                })
                .unwrap_or_default();
            panel.report_event(r.map(|d| {
                (
                    match d {
                        Deletion::Revoked => (t.deleted)(&name),
                        Deletion::AlreadyGoneAtProvider => (t.deleted_already_gone)(&name),
                    },
                    HostEvent::about("deleted", &input.id, &name),
                )
            }))
        });
        when_done(actions.add_manual, move |_, r| {
            // Refusals are shown beside the form's fields.
            if let Ok(v) = r {
                panel.report(Ok((t.was_added)(&v.name)));
            }
        });
        panel
    }

    /// Shows an action's outcome; failures also reach the host shell.
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
    }

    /// Like `report`, and passes the event of a success to the host shell.
    pub fn report_event(self, outcome: Result<(String, HostEvent), AppError>) {
        self.report(outcome.map(|(message, event)| {
            host::emit(&event);
            message
        }))
    }
}

impl Default for Panel {
    fn default() -> Self {
        Self::new()
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

impl Confirm {
    /// Its value in the page address (`?confirm=`).
    fn as_str(self) -> &'static str {
        match self {
            Confirm::Activate => "activate",
            Confirm::Delete => "delete",
        }
    }
}

/// The page's own query parameters (e.g. the embedded page's `locale`), for a form that reloads
/// the page and must keep them; without the question's and Leptos's error report's.
fn kept_query() -> Vec<(String, String)> {
    use_query_map().with_untracked(|q| {
        q.into_iter()
            .filter(|(k, _)| !matches!(k.as_ref(), "confirm" | "connection" | "__err" | "__path"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

/// A button that asks before acting. With script it calls `ask`; without, it loads this page with
/// the question in its address (`?confirm=delete&connection=…`), which renders the question.
#[component]
fn AskFirst(
    kind: Confirm,
    connection: ConnectionId,
    class: &'static str,
    label: &'static str,
    disabled: Signal<bool>,
    ask: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <form method="get" class="inline-form">
            {kept_query()
                .into_iter()
                .map(|(k, v)| view! { <input type="hidden" name=k value=v/> })
                .collect_view()}
            <input type="hidden" name="confirm" value=kind.as_str()/>
            <input type="hidden" name="connection" value=connection.to_string()/>
            <button
                type="submit"
                class=class
                disabled=disabled
                on:click=move |ev| {
                    ev.prevent_default();
                    ask();
                }
            >
                {label}
            </button>
        </form>
    }
}

#[component]
fn ConnectionItem(c: ConnectionView, other_active: Option<String>) -> impl IntoView {
    let panel = expect_context::<Panel>();
    let a = panel.actions;
    let t = use_texts();
    let menu_open = RwSignal::new(false);
    let name = c.name.clone();
    let pending = c.lifecycle == Lifecycle::PendingLink;
    let has_other = other_active.is_some();

    // A question in the page's address (a page loaded without script), unless the page also
    // reports a refusal: then the answer was given and failed.
    let asked = use_query_map().with_untracked(|q| {
        (q.get("connection").as_deref() == Some(c.id.as_str()) && a.refusal().is_none())
            .then(|| q.get("confirm"))
            .flatten()
    });
    let confirm = RwSignal::new(match asked.as_deref() {
        Some("delete") => Some(Confirm::Delete),
        Some("activate") if !c.enabled && !pending && has_other => Some(Confirm::Activate),
        _ => None,
    });

    let busy = {
        let id = c.id.clone();
        Signal::derive(move || {
            a.test
                .input()
                .with(|i| i.as_ref().is_some_and(|i| i.id == id))
                || a.activate
                    .input()
                    .with(|i| i.as_ref().is_some_and(|i| i.id == id))
                || a.deactivate
                    .input()
                    .with(|i| i.as_ref().is_some_and(|i| i.id == id))
                || a.delete
                    .input()
                    .with(|i| i.as_ref().is_some_and(|i| i.id == id))
                || a.switch
                    .input()
                    .with(|i| i.as_ref().is_some_and(|i| i.id == id))
        })
    };
    // Once an action is sent, its menu and question close.
    Effect::new(move |_| {
        if busy.get() {
            menu_open.set(false);
            confirm.set(None);
        }
    });
    // Opening the Link dialog needs the page's script.
    let no_script = Signal::derive(move || !panel.scripted.get() || busy.get());

    let id = c.id.clone();
    let menu_id = format!("menu-{}", c.id);
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
                    disabled=no_script
                    on:click=move |_| panel.link_dialog.set(Some(LinkTarget::Existing { id: id1.clone(), name: name2.clone(), relink: false }))
                >
                    {t.continue_setup}
                </button>
                <AskFirst kind=Confirm::Delete connection=id.clone() class="button button-quiet" label=t.remove
                    disabled=busy ask=move || confirm.set(Some(Confirm::Delete))/>
            </div>
        }
        .into_any()
    } else {
        let enabled = c.enabled;
        let (id_r, name_r) = (id.clone(), name.clone());
        let (id_1, id_t, id_del) = (id.clone(), id.clone(), id.clone());
        view! {
            <div class="connection-actions">
                <details
                    class="menu-wrap"
                    prop:open=move || menu_open.get()
                    on:toggle=move |ev| {
                        menu_open.set(event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open())
                    }
                >
                    <summary
                        role="button"
                        class="button button-quiet menu-button"
                        aria-label=(t.actions_for)(&name)
                        aria-controls=menu_id.clone()
                        aria-expanded=move || panel.scripted.get().then(|| menu_open.get().to_string())
                    >
                        ">"
                    </summary>
                    <ul class="menu" id=menu_id.clone()>
                        <li>
                            {if enabled {
                                view! {
                                    <ActionForm action=a.deactivate>
                                        <input type="hidden" name="id" value=id_1.to_string()/>
                                        <button type="submit" class="menu-item" disabled=busy>{t.deactivate}</button>
                                    </ActionForm>
                                }.into_any()
                            } else if has_other {
                                view! {
                                    <AskFirst kind=Confirm::Activate connection=id_1 class="menu-item" label=t.activate
                                        disabled=busy ask=move || { menu_open.set(false); confirm.set(Some(Confirm::Activate)) }/>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=a.activate>
                                        <input type="hidden" name="id" value=id_1.to_string()/>
                                        <button type="submit" class="menu-item" disabled=busy>{t.activate}</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </li>
                        <li>
                            <ActionForm action=a.test>
                                <input type="hidden" name="id" value=id_t.to_string()/>
                                <button type="submit" class="menu-item" disabled=busy>{t.test_connection}</button>
                            </ActionForm>
                        </li>
                        {(c.kind == ConnectionKind::Direct).then(|| view! {
                            <li>
                                <button type="button" class="menu-item" disabled=no_script on:click=move |_| {
                                    menu_open.set(false);
                                    panel.link_dialog.set(Some(LinkTarget::Existing { id: id_r.clone(), name: name_r.clone(), relink: true }));
                                }>
                                    {t.relink_flow}
                                </button>
                            </li>
                        })}
                        <li>
                            <AskFirst kind=Confirm::Delete connection=id_del class="menu-item menu-danger" label=t.delete
                                disabled=busy ask=move || { menu_open.set(false); confirm.set(Some(Confirm::Delete)) }/>
                        </li>
                    </ul>
                </details>
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
                let yes = match kind {
                    Confirm::Delete => view! {
                        <ActionForm action=a.delete>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <button type="submit" class="button" autofocus>{yes}</button>
                        </ActionForm>
                    }.into_any(),
                    Confirm::Activate => {
                        let target = id.clone();
                        view! {
                            <ActionForm action=a.activate>
                                <input type="hidden" name="id" value=id.to_string()/>
                                // With script: the switch, which shows a preview first while another
                                // connection feeds a directory with people.
                                <button type="submit" class="button" autofocus on:click=move |ev| {
                                    ev.prevent_default();
                                    confirm.set(None);
                                    a.switch.dispatch(SwitchSource { id: target.clone() });
                                }>{yes}</button>
                            </ActionForm>
                        }.into_any()
                    }
                };
                view! { <ConfirmDialog title body yes on_no=move || confirm.set(None)/> }
            })}
        </li>
    }
}

/// A modal question with a yes (a form, given) and a Cancel button; Escape cancels. Without script,
/// Cancel reloads the page without the question.
#[component]
pub fn ConfirmDialog(
    title: String,
    body: String,
    yes: AnyView,
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
                    {yes}
                    <form method="get" class="inline-form">
                        {kept_query()
                            .into_iter()
                            .map(|(k, v)| view! { <input type="hidden" name=k value=v/> })
                            .collect_view()}
                        <button type="submit" class="button button-quiet" on:click=move |ev| {
                            ev.prevent_default();
                            on_no();
                        }>
                            {t.cancel}
                        </button>
                    </form>
                </div>
            </div>
        </div>
    }
}
