//! HRIS Connect: everything the browser and the server share.
//!
//! - `model`, `error`: types that cross the wire; `input`: the rule for text from outside.
//! - `api`: server functions, grouped by domain. Thin: identity and permission, then domain code.
//! - `pages`, `components`: the UI.
//! - server-only (feature `ssr`): `state` (what server functions reach), `storage` (sqlx, SQLite and
//!   PostgreSQL), `crypto` (secrets at rest), `auth` (sessions and permissions), `domain` (the rules).

#![recursion_limit = "256"]

// The server renders the markup the browser hydrates, and `--cfg erase_components` changes that
// markup: a build of either side without it would not hydrate (the release wasm once had it and
// the release server did not: every load panicked in tachys' hydration). .cargo/config.toml sets it
// for every build; this makes a build without it fail instead of a page that does not hydrate.
#[cfg(not(erase_components))]
compile_error!(
    "app must be built with `--cfg erase_components` (set by .cargo/config.toml; a RUSTFLAGS \
     variable replaces it, so keep it there): the server and the wasm must agree on it"
);

pub mod api;
pub mod components;
pub mod error;
pub mod i18n;
pub mod input;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod provider;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod storage;
#[cfg(feature = "ssr")]
pub mod telemetry;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Redirect, Route, Router, Routes},
    path, Lazy, SsrMode,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=components::localized::page_locale().code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/png" href="/favicon.png"/>
                // First in line: the stylesheet blocks the first paint, the wasm preloads do not.
                <HashedStylesheet options=options.clone()/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(components::localized::page_locale());
    // Pages render whole on the server (`SsrMode::Async`): the data is local and quick, and every form
    // works before (or without) hydration.
    view! {
        <Title formatter=|text| format!("{text} · HRIS Connect")/>
        <Router>
            <components::localized::DocumentLang/>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/admin/integrations/hris"/> }/>
                <Route
                    path=path!("/signin")
                    view={Lazy::<pages::signin::SignInRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/desk")
                    view={Lazy::<pages::desk::DeskRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/embed/hris")
                    view=pages::hris::EmbeddedHrisPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/admin/integrations/hris")
                    view=pages::hris::HrisIntegrationPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
