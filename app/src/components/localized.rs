//! The page's language, known before anything renders so that the server's HTML and the browser's
//! hydration agree: `?locale=` in the URL (the embedding shell's mount option) wins, then the
//! signed-in user's locale, then English. The server decides (see `server/src/router.rs`,
//! `page_locale`) and writes it into `<html lang>`; the browser reads it back from there. A
//! client-side navigation to a URL with `?locale=` switches to it (`url_locale`), and the app's links
//! keep the page's `?locale=` (`href`), so a page reads the same however it was reached.

use crate::i18n::Locale;

/// The locale of this page.
pub fn page_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Locale>().copied())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|html| html.get_attribute("lang"))
            .map(|lang| Locale::parse(&lang))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

/// The locale the current URL asks for (`?locale=`), if any. After a client-side navigation it
/// decides the new page's language, as the server decides it for a page load. Everything that
/// renders texts is inside the app's `<Router>`.
pub fn url_locale() -> Option<Locale> {
    use leptos::prelude::WithUntracked;
    leptos_router::hooks::use_location()
        .query
        .with_untracked(|q| q.get("locale"))
        .map(|l| Locale::parse(&l))
}

/// `path` with the current page's `?locale=` kept, so that a link leads to a page in the same
/// language whether the browser follows it or loads it anew.
pub fn href(path: &str) -> String {
    match url_locale() {
        Some(locale) => format!("{path}?locale={}", locale.code()),
        None => path.to_string(),
    }
}

/// The value of `key` in a URL query string, if present.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_string())
    })
}

/// Keeps `<html lang>` (rendered by the server) in step with client-side navigations to a URL with
/// `?locale=`. Renders nothing.
#[leptos::component]
pub fn DocumentLang() -> impl leptos::IntoView {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::{Effect, With};
        let url = leptos_router::hooks::use_url();
        Effect::new(move |_| {
            let Some(locale) = url.with(|u| u.search_params().get("locale")) else {
                return;
            };
            if let Some(html) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = html.set_attribute("lang", Locale::parse(&locale).code());
            }
        });
    }
}
