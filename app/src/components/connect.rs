//! Connect directly: the directory of HR systems (searchable), and the Link dialog that names a new
//! connection ("Create name") and opens Merge Link ("Continue on merge.dev"). The same dialog serves
//! Continue setup and Relink Flow for an existing connection.

use leptos::prelude::*;

use crate::{
    api::connections::{FinishLink, LinkAgain},
    components::{
        connections::{when_done, Panel},
        host::HostEvent,
        merge_link::{self, LinkCallbacks},
    },
    error::AppError,
    i18n::use_texts,
    model::{ConnectionId, DirectoryEntry, LinkSession},
};

/// What the Link dialog is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// A new connection to this HR system.
    New(DirectoryEntry),
    /// An existing connection: finish its setup, or relink it.
    Existing {
        id: ConnectionId,
        name: String,
        relink: bool,
    },
}

#[component]
pub fn Directory(entries: Vec<DirectoryEntry>) -> impl IntoView {
    let panel = expect_context::<Panel>();
    let t = use_texts();
    let query = RwSignal::new(String::new());
    let entries = StoredValue::new(entries);
    let shown = move || {
        let q = query.get().trim().to_lowercase();
        entries.with_value(|all| {
            all.iter()
                .filter(|e| e.name.to_lowercase().contains(&q))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        // Connecting directly happens in Merge Link's pop-up, which needs the page's script.
        {move || (!panel.scripted.get()).then(|| view! { <p class="notice">{t.needs_script}</p> })}
        <label for="directory-search" class="field-label">{t.search_label}</label>
        <input id="directory-search" class="input" type="search" bind:value=query autocomplete="off"/>
        <ul class="directory">
            <For each=shown key=|e| e.slug.clone() let(entry)>
                <li class="directory-entry">
                    {match entry.logo_url.clone() {
                        Some(src) => view! { <img class="logo" src=src alt="" width="32" height="32"/> }.into_any(),
                        None => view! { <span class="logo logo-blank" aria-hidden="true"></span> }.into_any(),
                    }}
                    <span class="directory-name">{entry.name.clone()}</span>
                    <button
                        type="button"
                        class="button"
                        aria-describedby=format!("dir-{}", entry.slug)
                        disabled=move || !panel.scripted.get()
                        on:click={
                            let entry = entry.clone();
                            move |_| panel.link_dialog.set(Some(LinkTarget::New(entry.clone())))
                        }
                    >
                        {t.connect}
                    </button>
                    <span id=format!("dir-{}", entry.slug) class="visually-hidden">{entry.name.clone()}</span>
                </li>
            </For>
        </ul>
        {move || shown().is_empty().then(|| view! { <p class="muted">{t.no_match}</p> })}
    }
}

/// The Link dialog, as a separate wasm chunk (`cargo leptos build --split`) fetched the first time
/// an admin opens it: most page loads never do.
#[lazy]
pub fn link_dialog(target: LinkTarget) -> AnyView {
    view! { <LinkDialog target/> }.into_any()
}

/// The Link dialog. Step 1 (new connections only): name it. Step 2: Continue on merge.dev.
#[component]
fn LinkDialog(target: LinkTarget) -> impl IntoView {
    let panel = expect_context::<Panel>();
    let t = use_texts();
    let session = RwSignal::new(None::<LinkSession>);
    let ready = RwSignal::new(false);
    let name_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let (title, prefill, existing) = match &target {
        LinkTarget::New(e) => ((t.dialog_connect)(&e.name), e.name.clone(), None),
        LinkTarget::Existing { id, name, relink } => (
            if *relink {
                (t.dialog_relink)(name)
            } else {
                (t.dialog_finish)(name)
            },
            name.clone(),
            Some((id.clone(), *relink)),
        ),
    };
    let name = RwSignal::new(prefill);
    let close = move || panel.link_dialog.set(None);
    let relink = matches!(existing, Some((_, true)));

    let actions = panel.actions;
    let (create, fetch_session, finish) = (actions.start, actions.link_again, actions.finish);
    when_done(finish, move |_, outcome| {
        panel.link_dialog.set(None);
        panel.report_event(outcome.map(|v| {
            let kind = if relink { "relinked" } else { "created" };
            (
                (t.is_connected)(&v.name),
                HostEvent::about(kind, &v.id, &v.name),
            )
        }));
    });

    // Once a link token is known, Link is initialized so the click can open it at once.
    let prepare = move |s: LinkSession| {
        let id = s.connection_id.clone();
        merge_link::initialize(
            &s.link_script_url,
            &s.link_token,
            LinkCallbacks {
                on_ready: Box::new(move || ready.set(true)),
                on_success: Box::new(move |public_token| {
                    finish.dispatch(FinishLink {
                        id: id.clone(),
                        public_token,
                    });
                }),
                on_exit: Box::new(move || {
                    panel.link_dialog.set(None);
                    panel.report(Ok(t.link_cancelled.into()));
                }),
            },
        );
        session.set(Some(s));
    };
    let show_error = move |e: AppError| match e {
        AppError::Invalid { field, message } if field == "name" => name_error.set(Some(message)),
        other => error.set(Some(other.message(t))),
    };

    let slug = match &target {
        LinkTarget::New(e) => Some(e.slug.clone()),
        LinkTarget::Existing { .. } => None,
    };
    when_done(create, move |_, outcome| match outcome {
        Ok(s) => {
            name_error.set(None);
            prepare(s)
        }
        Err(e) => show_error(e),
    });
    when_done(fetch_session, move |_, outcome| match outcome {
        Ok(s) => prepare(s),
        Err(e) => show_error(e),
    });
    if let Some((id, _)) = &existing {
        fetch_session.dispatch(LinkAgain { id: id.clone() });
    }

    let working = Signal::derive(move || {
        create.pending().get() || fetch_session.pending().get() || finish.pending().get()
    });

    view! {
        <div class="dialog-backdrop">
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="link-dialog-title"
                on:keydown=move |ev| if ev.key() == "Escape" { close() }
            >
                <h2 id="link-dialog-title">{title}</h2>
                {existing.is_none().then(|| view! {
                    <ActionForm action=create attr:class="name-form">
                        <input type="hidden" name="slug" value=slug.clone().unwrap_or_default()/>
                        <label for="connection-name" class="field-label">{t.connection_name}</label>
                        <input
                            id="connection-name"
                            class="input"
                            name="name"
                            maxlength="200"
                            autofocus
                            autocomplete="off"
                            bind:value=name
                            aria-invalid=move || name_error.get().is_some().to_string()
                            aria-describedby="connection-name-hint connection-name-error"
                            prop:readonly=move || session.get().is_some()
                        />
                        <p id="connection-name-hint" class="muted">{t.connection_name_hint}</p>
                        <p id="connection-name-error" class="field-error">{move || name_error.get()}</p>
                        {move || session.get().is_none().then(|| view! {
                            <button type="submit" class="button" disabled=working>{t.create_name}</button>
                        })}
                    </ActionForm>
                })}
                {move || session.get().map(|_| view! {
                    <p>{t.link_explainer}</p>
                    <button
                        type="button"
                        class="button"
                        autofocus
                        disabled=move || !ready.get() || working.get()
                        on:click=move |_| {
                            if !merge_link::open() {
                                error.set(Some(t.link_unavailable.into()));
                            }
                        }
                    >
                        {t.continue_on_merge}
                    </button>
                })}
                <p class="muted" aria-live="polite">
                    {move || working.get().then_some(t.working)}
                </p>
                {move || error.get().map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="button button-quiet" on:click=move |_| close()>{t.cancel}</button>
                </div>
            </div>
        </div>
    }
}
