//! The service desk's webhook log: each delivery received from Merge with its time, event type,
//! linked account, signature verdict and what was done, newest first, paged by the URL's
//! `?webhook_page=`. A failed or ignored delivery whose signature was valid can be replayed (a form,
//! so it works as a plain post too); the others say why not.

use leptos::prelude::*;

use crate::{
    api::desk::{desk_webhook_log, ReplayWebhook},
    components::{
        notice::{action_error, ErrorNotice},
        timeline::{page_param, Pager},
    },
    i18n::use_texts,
    model::WebhookLogView,
};

/// The query parameter of the webhook log's page.
pub const WEBHOOK_PAGE: &str = "webhook_page";

#[component]
pub fn WebhookLog() -> impl IntoView {
    let t = use_texts();
    let page = page_param(WEBHOOK_PAGE);
    let replay = ServerAction::<ReplayWebhook>::new();
    let log = Resource::new(
        move || (page.get(), replay.version().get()),
        |(page, _)| desk_webhook_log(page),
    );
    let replayed = move || {
        replay.value().get().and_then(Result::ok).map(|v| {
            view! {
                <p role="status" class="status-line">
                    {(t.wh_replayed)(&t.webhook_result(v.outcome, v.reason))}
                </p>
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="webhook-log-heading">
            <h2 id="webhook-log-heading">{t.wh_heading}</h2>
            {replayed}
            {action_error(replay.value())}
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(p) if p.entries.is_empty() && p.page == 1 => {
                            view! { <p class="muted">{t.wh_empty}</p> }.into_any()
                        }
                        Ok(p) => view! {
                            <table class="table webhook-log">
                                <thead>
                                    <tr>
                                        <th scope="col">{t.col_received}</th>
                                        <th scope="col">{t.col_event}</th>
                                        <th scope="col">{t.col_account}</th>
                                        <th scope="col">{t.col_signature}</th>
                                        <th scope="col">{t.col_result}</th>
                                        <th scope="col">{t.col_actions}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.entries.into_iter().map(|d| view! { <Delivery d replay/> }).collect_view()}
                                </tbody>
                            </table>
                            <Pager key=WEBHOOK_PAGE page=p.page has_more=p.has_more label=t.wh_heading/>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Delivery(d: WebhookLogView, replay: ServerAction<ReplayWebhook>) -> impl IntoView {
    let t = use_texts();
    let verdict = <&str>::from(d.verdict);
    let outcome = <&str>::from(d.outcome);
    let id = d.id.to_string();
    let row = id.clone();
    view! {
        <tr data-delivery=row>
            <td>{d.received_at.clone()}</td>
            <td>
                <code>{d.event.clone()}</code>
                {d.replayed_by.as_ref().map(|who| view! { <br/><span class="muted">{(t.wh_replay_by)(who)}</span> })}
            </td>
            <td><code>{d.linked_account_id.clone().unwrap_or_default()}</code></td>
            <td><span class=format!("badge badge-verdict-{verdict}")>{t.webhook_verdict(d.verdict)}</span></td>
            <td><span class=format!("badge badge-outcome-{outcome}")>{t.webhook_result(d.outcome, d.reason)}</span></td>
            <td>
                {d.replayable.then(|| view! {
                    <ActionForm action=replay attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="button button-quiet" disabled=move || replay.pending().get()>
                            {t.wh_replay}
                        </button>
                    </ActionForm>
                })}
                {d.replay_block.map(|b| view! { <span class="muted">{t.replay_block(b)}</span> })}
            </td>
        </tr>
    }
}
