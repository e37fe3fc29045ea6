//! "Employees": the synced directory, searched and paged on the server. The search is a plain GET
//! form (`?people_q=`, `?people_show=`), the pages are links (`?people_after=`: keyset paging, the
//! last person of the page), so it works the same with and without the page's script.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::sync::sync_directory,
    components::{notice::ErrorNotice, timeline::query_href},
    i18n::{format_instant, use_texts},
    model::PeopleFilter,
};

pub const PEOPLE_SEARCH: &str = "people_q";
pub const PEOPLE_SHOW: &str = "people_show";
pub const PEOPLE_AFTER: &str = "people_after";

/// The directory; reloads when `refresh` changes (a sync run ended, removals were decided).
#[component]
pub fn Employees(#[prop(into)] refresh: Signal<usize>) -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let param = move |key: &'static str| {
        Memo::new(move |_| query.with(|q| q.get_str(key).unwrap_or_default().to_string()))
    };
    let (search, show, after) = (
        param(PEOPLE_SEARCH),
        param(PEOPLE_SHOW),
        param(PEOPLE_AFTER),
    );
    let people = Resource::new(
        move || (search.get(), show.get(), after.get(), refresh.get()),
        |(search, show, after, _)| sync_directory(search, show, after),
    );
    // The page's other parameters (its language) survive a search.
    let kept: Vec<(String, String)> = query.with_untracked(|q| {
        q.into_iter()
            .filter(|(k, _)| k.as_ref() == "locale")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let shown = PeopleFilter::parse(&show.get_untracked()).unwrap_or_default();
    let option = move |f: PeopleFilter, label: &'static str| {
        view! { <option value=f.as_str() selected={f == shown}>{label}</option> }
    };
    view! {
        <section class="card" aria-labelledby="people-heading">
            <h2 id="people-heading">{t.people_heading}</h2>
            <form method="get" class="people-search" role="search">
                {kept.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
                <div class="field">
                    <label for="people-q" class="field-label">{t.people_search}</label>
                    <input
                        id="people-q"
                        class="input"
                        type="search"
                        name=PEOPLE_SEARCH
                        maxlength="200"
                        value=search.get_untracked()
                        aria-describedby="people-q-hint"
                    />
                    <span id="people-q-hint" class="muted">{t.people_search_hint}</span>
                </div>
                <div class="field">
                    <label for="people-show" class="field-label">{t.people_show}</label>
                    <select id="people-show" class="input" name=PEOPLE_SHOW>
                        {option(PeopleFilter::Active, t.filter_active)}
                        {option(PeopleFilter::Inactive, t.filter_inactive)}
                        {option(PeopleFilter::All, t.filter_all)}
                    </select>
                </div>
                <button type="submit" class="button">{t.people_search_button}</button>
            </form>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(p) if p.people.is_empty() => view! { <p class="muted">{t.people_empty}</p> }.into_any(),
                        Ok(p) => {
                            let first = (!after.get_untracked().is_empty()).then(|| query_href(PEOPLE_AFTER, None));
                            let next = p.next.clone().map(|n| query_href(PEOPLE_AFTER, Some(n)));
                            view! {
                                <div class="table-scroll" tabindex="0">
                                    <table class="table people">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t.col_person}</th>
                                                <th scope="col">{t.col_email}</th>
                                                <th scope="col">{t.col_job_title}</th>
                                                <th scope="col">{t.col_team}</th>
                                                <th scope="col">{t.col_manager}</th>
                                                <th scope="col">{t.col_location}</th>
                                                <th scope="col">{t.col_status}</th>
                                                <th scope="col">{t.col_last_changed}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {p.people.into_iter().map(|e| view! {
                                                <tr>
                                                    <td>{e.name}</td>
                                                    <td>{e.email.unwrap_or_default()}</td>
                                                    <td>{e.job_title.unwrap_or_default()}</td>
                                                    <td>{e.team.unwrap_or_default()}</td>
                                                    <td>{e.manager.unwrap_or_default()}</td>
                                                    <td>{e.location.unwrap_or_default()}</td>
                                                    <td>{if e.active { t.status_active } else { t.status_inactive }}</td>
                                                    <td>{format_instant(e.modified_at, t)}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {(first.is_some() || next.is_some()).then(|| view! {
                                    <nav class="pager" aria-label=t.people_pages_label>
                                        {first.map(|href| view! { <a class="pager-link" href=href>{t.people_first}</a> })}
                                        {next.map(|href| view! { <a class="pager-link" rel="next" href=href>{t.people_next}</a> })}
                                    </nav>
                                })}
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
