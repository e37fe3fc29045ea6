//! The page's language, known before anything renders so that the server's HTML and the browser's
//! hydration agree: `?locale=` in the URL (the embedding shell's mount option) wins, then the
//! signed-in user's locale, then English. The server decides (see `server/src/router.rs`,
//! `page_locale`) and writes it into `<html lang>`; the browser reads it back from there.

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

/// The value of `key` in a URL query string, if present.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_string())
    })
}
