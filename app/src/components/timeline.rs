//! The timeline: who did what and when, newest first, a page at a time. Server-rendered with no
//! state of its own: the page is the URL's `?timeline_page=` (links keep the rest of the query,
//! `?locale=` included), the words are the page's language (`Texts::timeline_entry`).

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::{
    api::{desk::desk_timeline, hris::hris_timeline},
    components::notice::ErrorNotice,
    i18n::use_texts,
    model::OrganizationId,
};

/// The query parameter of the timeline's page.
pub const TIMELINE_PAGE: &str = "timeline_page";

/// The page the URL's `key` asks for (from 1; anything else is the first).
pub fn page_param(key: &'static str) -> Memo<u32> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            q.get_str(key)
                .and_then(|p| p.parse::<u32>().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1)
        })
    })
}

/// The current URL with `key` set to `page`, every other parameter kept (their latest values).
fn page_href(key: &'static str, page: u32) -> String {
    query_href(key, Some(page.to_string()))
}

/// The current URL with `key` set to `value` (`None`: removed), every other parameter kept.
pub fn query_href(key: &'static str, value: Option<String>) -> String {
    let location = use_location();
    let mut pairs: Vec<(String, String)> = location.query.with_untracked(|q| {
        q.latest_values()
            .filter(|(k, _)| k.as_ref() != key)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    pairs.extend(value.map(|v| (key.to_string(), v)));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect();
    format!("{}?{}", location.pathname.get_untracked(), query.join("&"))
}

/// Percent-encodes all but RFC 3986's unreserved characters, the same on the server and in the
/// browser (so the server's links and the hydrated page's agree).
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// "Newer · Page 2 · Older": links to the neighbouring pages of a list paged by `key`.
#[component]
pub fn Pager(key: &'static str, page: u32, has_more: bool, label: &'static str) -> impl IntoView {
    let t = use_texts();
    (page > 1 || has_more).then(|| {
        view! {
            <nav class="pager" aria-label=label>
                {(page > 1).then(|| view! { <a class="pager-link" rel="prev" href=page_href(key, page - 1)>{t.page_newer}</a> })}
                <span class="pager-page" aria-current="page">{(t.page_number)(u64::from(page))}</span>
                {has_more.then(|| view! { <a class="pager-link" rel="next" href=page_href(key, page + 1)>{t.page_older}</a> })}
            </nav>
        }
    })
}

/// The timeline of the reader's own organization (`org` unset: the HRIS page), or of the
/// organization the service desk picked. Reloads when `refresh` changes (an action finished).
#[component]
pub fn Timeline(
    #[prop(optional)] org: Option<OrganizationId>,
    #[prop(into, optional)] refresh: Option<Signal<usize>>,
) -> impl IntoView {
    let t = use_texts();
    let page = page_param(TIMELINE_PAGE);
    let entries = Resource::new(
        move || (page.get(), refresh.map(|r| r.get()).unwrap_or_default()),
        move |(page, _)| {
            let org = org.clone();
            async move {
                match org {
                    Some(org) => desk_timeline(org, page).await,
                    None => hris_timeline(page).await,
                }
            }
        },
    );
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">{t.timeline_heading}</h2>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(p) if p.entries.is_empty() && p.page == 1 => {
                            view! { <p class="muted">{t.timeline_empty}</p> }.into_any()
                        }
                        Ok(p) => view! {
                            <ol class="timeline">
                                {p.entries.iter().map(|e| view! {
                                    <li class="timeline-entry">
                                        <span class="timeline-text">{t.timeline_entry(e)}</span>
                                        <span class="timeline-time muted">{e.at.clone()}</span>
                                    </li>
                                }).collect_view()}
                            </ol>
                            <Pager key=TIMELINE_PAGE page=p.page has_more=p.has_more label=t.timeline_heading/>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_escaped_but_unreserved_characters_kept() {
        assert_eq!(super::escape("timeline_page"), "timeline_page");
        assert_eq!(super::escape("a b&c=ä"), "a%20b%26c%3D%C3%A4");
    }
}
