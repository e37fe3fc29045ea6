//! `/admin/integrations/hris`: Administration > Integrations > HRIS Integration.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        connections::{hris_directory, list_connections},
        hris::{load_hris_settings, SetHrisEnabled},
        session::whoami,
    },
    components::{
        connect::{link_dialog, Directory},
        connections::{ConnectionList, Panel, StatusLine},
        frame::Frame,
        health_alerts::HealthAlerts,
        notice::{action_error, ErrorNotice, SignedOutNotice},
        other_systems::OtherSystemsForm,
        sync::{preview_dialog, SyncSection},
        timeline::Timeline,
    },
    error::AppError,
    i18n::use_texts,
    model::{ConnectionKind, HrisSettings},
};

#[component]
pub fn HrisIntegrationPage() -> impl IntoView {
    let t = use_texts();
    view! {
        <Title text=t.hris_title/>
        <Frame>
            <nav aria-label=t.breadcrumb_label class="breadcrumb">
                <ol>
                    <li>{t.breadcrumb_admin}</li>
                    <li>{t.breadcrumb_integrations}</li>
                    <li aria-current="page">{t.hris_title}</li>
                </ol>
            </nav>
            <HrisContent/>
        </Frame>
    }
}

/// `/embed/hris`: the same page without the standalone chrome, for the admin shell's iframe.
#[component]
pub fn EmbeddedHrisPage() -> impl IntoView {
    let t = use_texts();
    let viewer = Resource::new(|| (), |_| whoami());
    view! {
        <Title text=t.hris_title/>
        <main id="main" class="page page-embedded">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    viewer.await.ok().flatten().map(|_| view! { <span data-signed-in="true" hidden></span> })
                })}
            </Transition>
            <HrisContent/>
        </main>
        // The bridge's own messages to the host, in the page's language.
        <script
            src="/widget-bridge.js"
            data-token-refused=t.bridge_token_refused
            data-unreachable=t.bridge_unreachable
        ></script>
    }
}

/// The heading, the switch and, while it is on, the connections.
#[component]
fn HrisContent() -> impl IntoView {
    let toggle = ServerAction::<SetHrisEnabled>::new();
    let settings = Resource::new(move || toggle.version().get(), |_| load_hris_settings());
    let t = use_texts();
    view! {
        <h1>{t.hris_title}</h1>
        <Transition fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <HrisBody settings=s toggle/> }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <SignedOutNotice/> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
        {action_error(toggle.value())}
    }
}

#[component]
fn HrisBody(settings: HrisSettings, toggle: ServerAction<SetHrisEnabled>) -> impl IntoView {
    let t = use_texts();
    let enabled = settings.enabled;
    let pending = toggle.pending();
    view! {
        <section class="card" aria-labelledby="hris-switch-heading">
            <h2 id="hris-switch-heading">{(t.integration_for)(&settings.organization_name)}</h2>
            <ActionForm action=toggle>
                <input type="hidden" name="enabled" value=(!enabled).to_string()/>
                <button
                    type="submit"
                    role="switch"
                    class="switch"
                    aria-checked=enabled.to_string()
                    aria-busy=move || pending.get().to_string()
                    disabled=move || pending.get()
                >
                    <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
                    <span class="switch-label">{t.switch_label}</span>
                </button>
            </ActionForm>
            <p class="switch-state">{if enabled { t.switch_on } else { t.switch_off }}</p>
            <p>{if enabled { t.enabled_intro } else { t.disabled_intro }}</p>
        </section>
        {if enabled { view! { <ConnectionsPanel/> }.into_any() } else { view! { <Timeline/> }.into_any() }}
    }
}

/// Connected HRIS systems and the directory to connect more; shown while the integration is on.
#[component]
fn ConnectionsPanel() -> impl IntoView {
    let panel = Panel::new();
    provide_context(panel);
    // One list for both sections, reloaded whenever an action finished. (Two boundaries reading
    // one resource could hang server rendering before leptos 0.8.21: leptos-rs/leptos#4851.) The
    // Other HR systems form stays outside the reloading sections, so a reload keeps what is typed.
    let connections = Resource::new(
        move || (panel.actions.versions(), panel.health_changes.get()),
        |_| list_connections(),
    );
    let directory = Resource::new(|| (), |_| hris_directory());
    let t = use_texts();
    let loading = move || view! { <p>{t.loading}</p> };
    let list = move |kind: ConnectionKind| {
        Suspend::new(async move {
            match connections.await {
                Ok(list) => {
                    panel.shown.set_value(list.clone());
                    view! { <ConnectionList connections=list kind/> }.into_any()
                }
                Err(error) => view! { <ErrorNotice error/> }.into_any(),
            }
        })
    };
    view! {
        <HealthAlerts
            refresh=Signal::derive(move || panel.actions.versions())
            changed=panel.health_changes
        />
        <StatusLine/>
        <section class="card" aria-labelledby="connected-heading">
            <h2 id="connected-heading">{t.connected_heading}</h2>
            <Transition fallback=loading>{move || list(ConnectionKind::Direct)}</Transition>
        </section>
        <SyncSection refresh=Signal::derive(move || panel.actions.versions())/>
        <section class="card" aria-labelledby="directory-heading">
            <h2 id="directory-heading">{t.directory_heading}</h2>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match directory.await {
                        Ok(entries) => view! { <Directory entries/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card" aria-labelledby="other-heading">
            <h2 id="other-heading">{t.other_heading}</h2>
            <OtherSystemsForm/>
        </section>
        <section class="card" aria-labelledby="other-connected-heading">
            <h2 id="other-connected-heading">{t.other_connected_heading}</h2>
            <Transition fallback=loading>{move || list(ConnectionKind::Manual)}</Transition>
        </section>
        <Timeline refresh=Signal::derive(move || panel.actions.versions())/>
        // The dialogs' code is fetched the first time one opens (lazy wasm chunks).
        <Suspense fallback=|| ()>
            {move || panel.link_dialog.get().map(|target| Suspend::new(link_dialog(target)))}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || panel.preview.get().map(|(preview, name)| Suspend::new(preview_dialog(preview, name)))}
        </Suspense>
    }
}
