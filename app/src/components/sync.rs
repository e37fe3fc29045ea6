//! The employee sync on the HRIS page (issue 14): the active connection's sync card (state in
//! words, live progress, last and next sync, Sync now), the removals the safety brake holds, and the
//! history of runs. While the page is open the card asks again (`sync/status`: every second while a
//! run is queued or running, else every 10 s), reloads the history and the held removals when the
//! newest run changes, and passes each run's start and end to the host shell as `sync` events
//! (`hris-connect:sync`: `state` `started`, `finished` with `counts`, `failed`, `held`).

use std::time::Duration;

use leptos::prelude::*;

use crate::{
    api::sync::{load_held_removals, sync_history, sync_status, DecideRemovals, SyncNow},
    components::{
        connections::{when_done, Panel},
        employees::Employees,
        host::{self, HostEvent},
        notice::ErrorNotice,
        timeline::{page_param, Pager},
    },
    i18n::{format_instant, use_texts, Texts},
    model::{HeldRemovals, RunResult, SwitchPreview, SyncOverview, SyncRunView, SyncState},
};

/// The query parameter of the history's page.
pub const HISTORY_PAGE: &str = "history_page";

/// The sync card, the held removals, the history and the directory. Reloads when `refresh` changes (an action of
/// the connections panel finished, e.g. an activation).
#[component]
pub fn SyncSection(#[prop(into)] refresh: Signal<usize>) -> impl IntoView {
    let panel = expect_context::<Panel>();
    let t = use_texts();
    let poll = RwSignal::new(0usize);
    let sync_now = ServerAction::<SyncNow>::new();
    let decide = ServerAction::<DecideRemovals>::new();
    let status = Resource::new(
        move || {
            (
                refresh.get(),
                poll.get(),
                sync_now.version().get(),
                decide.version().get(),
            )
        },
        |_| sync_status(),
    );
    // Grows whenever the newest run is another one or changed its state: the history and the held
    // removals reload from it.
    let runs_changed = RwSignal::new(0usize);
    let seen = StoredValue::new(None::<Option<SyncRunView>>);
    Effect::new(move |_| {
        let Some(Ok(now)) = status.get() else {
            return;
        };
        let latest = now.as_ref().and_then(|o| o.latest.clone());
        let before = seen.get_value();
        if before
            .as_ref()
            .is_some_and(|b| run_key(b) != run_key(&latest))
        {
            runs_changed.update(|n| *n += 1);
        }
        if let Some(o) = &now {
            for event in sync_events(before.as_ref(), latest.as_ref(), o, t) {
                host::emit(&event);
            }
        }
        seen.set_value(Some(latest));
        let asked = poll.get_untracked();
        let wait = now.as_ref().map(|o| o.poll_seconds).unwrap_or(10);
        set_timeout(
            move || {
                if poll.try_get_untracked() == Some(asked) {
                    poll.try_update(|n| *n += 1);
                }
            },
            Duration::from_secs(wait.into()),
        );
    });
    when_done(sync_now, move |_, r| {
        panel.report(r.map(|_| t.sync_queued_now.to_string()))
    });
    when_done(decide, move |input, r| {
        panel.report(r.map(|left| {
            if input.apply {
                (t.removals_applied)(left.max(0) as u64)
            } else {
                t.kept_everyone.to_string()
            }
        }))
    });
    let reload = Signal::derive(move || runs_changed.get() + decide.version().get());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(Some(o)) => view! { <SyncCard o sync_now/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
        <HeldBanner reload decide/>
        <SyncHistory reload=Signal::derive(move || reload.get() + sync_now.version().get())/>
        <Employees refresh=reload/>
    }
}

/// What identifies the newest run's state: another run, or the same run further along.
fn run_key(r: &Option<SyncRunView>) -> Option<(String, bool, bool)> {
    r.as_ref()
        .map(|r| (r.id.to_string(), r.running, r.finished))
}

/// The host events between the newest run the page showed (`None`: nothing yet, the page just
/// opened) and the newest run now.
pub fn sync_events(
    before: Option<&Option<SyncRunView>>,
    now: Option<&SyncRunView>,
    o: &SyncOverview,
    t: &Texts,
) -> Vec<HostEvent> {
    let (Some(before), Some(now)) = (before, now) else {
        return Vec::new();
    };
    let same = before.as_ref().filter(|b| b.id == now.id);
    let event = |state: &'static str| HostEvent {
        state: Some(state),
        run_id: Some(now.id.to_string()),
        ..HostEvent::about("sync", o.connection_id.as_str(), &o.name)
    };
    let mut events = Vec::new();
    if (now.running || now.finished) && !same.is_some_and(|b| b.running || b.finished) {
        events.push(event("started"));
    }
    if now.finished && !same.is_some_and(|b| b.finished) {
        let state = match now.result {
            Some(RunResult::Done | RunResult::Partial) => "finished",
            Some(RunResult::Held) => "held",
            _ => "failed",
        };
        events.push(HostEvent {
            ok: Some(state != "failed"),
            message: Some(t.run_outcome(now).to_string()),
            counts: Some(now.counts),
            ..event(state)
        });
    }
    events
}

#[component]
fn SyncCard(o: SyncOverview, sync_now: ServerAction<SyncNow>) -> impl IntoView {
    let t = use_texts();
    let pending = matches!(o.state, SyncState::Queued | SyncState::Running);
    let reason = match o.state {
        SyncState::Running => Some(t.sync_already_running),
        SyncState::Queued => Some(t.sync_already_queued),
        _ => None,
    };
    let sending = sync_now.pending();
    let attention = (o.state == SyncState::NeedsAttention)
        .then(|| {
            o.latest
                .as_ref()
                .filter(|r| r.finished)
                .map(|r| t.run_outcome(r))
        })
        .flatten();
    let state_class = match o.state {
        SyncState::UpToDate => "badge badge-active",
        SyncState::NeedsAttention => "badge badge-attention",
        _ => "badge",
    };
    let progress = (!o.progress.is_empty()).then(|| {
        view! {
            <table class="table sync-progress">
                <thead>
                    <tr>
                        <th scope="col">{t.col_stream}</th>
                        <th scope="col">{t.col_pages}</th>
                        <th scope="col">{t.col_records}</th>
                    </tr>
                </thead>
                <tbody>
                    {o.progress.iter().map(|p| view! {
                        <tr>
                            <td>{t.stream(&p.stream)}</td>
                            <td>{p.pages}</td>
                            <td>{p.records}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        <section class="card sync-card" aria-labelledby="sync-heading">
            <h2 id="sync-heading">{t.sync_heading}</h2>
            <p class="muted">{(t.sync_card_for)(&o.name)}</p>
            <div aria-live="polite" class="sync-live">
                <p class="sync-state">
                    <span class=state_class>{t.sync_state(o.state)}</span>
                </p>
                {attention.map(|a| view! { <p class="health-detail">{a}</p> })}
                {progress}
            </div>
            <p>
                {match o.last_success_at {
                    Some(at) => (t.sync_last_success)(&format_instant(at, t)),
                    None => t.sync_no_success.to_string(),
                }}
            </p>
            <p>
                {match o.next_at {
                    Some(at) => (t.sync_next)(&format_instant(at, t)),
                    None => t.sync_schedule_stopped.to_string(),
                }}
            </p>
            <ActionForm action=sync_now>
                <button
                    type="submit"
                    class="button"
                    disabled=move || pending || sending.get()
                    aria-describedby=reason.map(|_| "sync-now-reason")
                >
                    {t.sync_now}
                </button>
                {reason.map(|r| view! { <span id="sync-now-reason" class="muted sync-now-reason">{r}</span> })}
            </ActionForm>
        </section>
    }
}

/// The banner of removals the safety brake holds, with the people and the two decisions.
#[component]
fn HeldBanner(reload: Signal<usize>, decide: ServerAction<DecideRemovals>) -> impl IntoView {
    let t = use_texts();
    let held = Resource::new(move || reload.get(), |_| load_held_removals());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match held.await {
                    Ok(Some(h)) => held_list(h, decide).await,
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
        {move || decide.pending().get().then(|| view! { <p class="muted">{t.working}</p> })}
    }
}

/// The held removals, as a separate wasm chunk: fetched (and, on a page rendered with removals held,
/// preloaded) only while the safety brake holds some, which most page loads never see.
#[lazy]
fn held_list(h: HeldRemovals, decide: ServerAction<DecideRemovals>) -> AnyView {
    view! { <HeldList h decide/> }.into_any()
}

#[component]
fn HeldList(h: HeldRemovals, decide: ServerAction<DecideRemovals>) -> impl IntoView {
    let t = use_texts();
    let busy = decide.pending();
    let run_id = h.run_id.to_string();
    let choice = move |apply: bool, label: &'static str, class: &'static str, run_id: String| {
        view! {
            <ActionForm action=decide>
                <input type="hidden" name="id" value=run_id/>
                <input type="hidden" name="apply" value=apply.to_string()/>
                <button type="submit" class=class disabled=move || busy.get()>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <section class="card held-removals" aria-labelledby="held-heading">
            <h2 id="held-heading">{t.held_heading}</h2>
            <p class="notice">
                {(t.held_banner)(&h.count.to_string(), &h.limit_percent.to_string())}
            </p>
            <div class="table-scroll" tabindex="0">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">{t.col_person}</th>
                            <th scope="col">{t.col_email}</th>
                            <th scope="col">{t.col_team}</th>
                            <th scope="col">{t.col_last_seen}</th>
                            <th scope="col">{t.col_reason}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {h.people.iter().map(|p| view! {
                            <tr>
                                <td>{p.name.clone()}</td>
                                <td>{p.email.clone().unwrap_or_default()}</td>
                                <td>{p.team.clone().unwrap_or_default()}</td>
                                <td>{format_instant(p.last_seen_at, t)}</td>
                                <td>{t.leave_reason(p.reason)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="dialog-actions">
                {choice(true, t.apply_removals, "button", run_id.clone())}
                {choice(false, t.keep_everyone, "button button-quiet", run_id)}
            </div>
        </section>
    }
}

/// The last runs, newest first, ten a page (`?history_page=`).
#[component]
fn SyncHistory(reload: Signal<usize>) -> impl IntoView {
    let t = use_texts();
    let page = page_param(HISTORY_PAGE);
    let runs = Resource::new(
        move || (page.get(), reload.get()),
        |(page, _)| sync_history(page),
    );
    view! {
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">{t.history_heading}</h2>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(p) if p.runs.is_empty() && p.page == 1 => {
                            view! { <p class="muted">{t.history_empty}</p> }.into_any()
                        }
                        Ok(p) => view! {
                            <div class="table-scroll" tabindex="0">
                                <table class="table sync-history">
                                    <thead>
                                        <tr>
                                            <th scope="col">{t.col_started}</th>
                                            <th scope="col">{t.col_duration}</th>
                                            <th scope="col">{t.col_trigger}</th>
                                            <th scope="col">{t.col_added}</th>
                                            <th scope="col">{t.col_changed}</th>
                                            <th scope="col">{t.col_deactivated}</th>
                                            <th scope="col">{t.col_held}</th>
                                            <th scope="col">{t.col_outcome}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p.runs.iter().map(|r| view! {
                                            <tr>
                                                <td>{format_instant(r.started_at.unwrap_or(r.queued_at), t)}</td>
                                                <td>{match (r.started_at, r.finished_at) {
                                                    (Some(s), Some(f)) => t.duration(f - s),
                                                    _ => String::new(),
                                                }}</td>
                                                <td>{t.run_trigger(r.trigger)}</td>
                                                <td>{r.counts.added + r.counts.reactivated}</td>
                                                <td>{r.counts.changed}</td>
                                                <td>{r.counts.deactivated}</td>
                                                <td>{r.counts.held}</td>
                                                <td>{t.run_outcome(r)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager key=HISTORY_PAGE page=p.page has_more=p.has_more label=t.history_pages_label/>
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
    use super::*;
    use crate::{
        i18n::EN,
        model::{ConnectionId, RunTrigger, SyncCounts, SyncRunId},
    };

    fn run(id: &str, running: bool, result: Option<RunResult>) -> SyncRunView {
        SyncRunView {
            id: SyncRunId::from(id),
            trigger: RunTrigger::Manual,
            running,
            finished: result.is_some(),
            result,
            queued_at: 1,
            started_at: Some(2),
            finished_at: result.map(|_| 3),
            counts: SyncCounts {
                added: 5,
                ..SyncCounts::default()
            },
        }
    }

    fn overview() -> SyncOverview {
        SyncOverview {
            connection_id: ConnectionId::from("c1"),
            name: "Personio".into(),
            state: SyncState::Running,
            latest: None,
            progress: Vec::new(),
            last_success_at: None,
            next_at: None,
            people: 0,
            poll_seconds: 1,
        }
    }

    fn states(events: &[HostEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.state.unwrap()).collect()
    }

    #[test]
    fn the_host_hears_each_run_start_and_end_once() {
        let o = overview();
        let queued = run("r1", false, None);
        let running = run("r1", true, None);
        let done = run("r1", false, Some(RunResult::Done));
        // The page opening with a run says nothing.
        assert!(sync_events(None, Some(&running), &o, &EN).is_empty());
        assert!(sync_events(Some(&Some(queued.clone())), Some(&queued), &o, &EN).is_empty());
        assert_eq!(
            states(&sync_events(Some(&Some(queued)), Some(&running), &o, &EN)),
            ["started"]
        );
        let end = sync_events(Some(&Some(running.clone())), Some(&done), &o, &EN);
        assert_eq!(states(&end), ["finished"]);
        assert_eq!(end[0].counts.map(|c| c.added), Some(5));
        assert_eq!(end[0].kind, "sync");
        assert!(sync_events(Some(&Some(done.clone())), Some(&done), &o, &EN).is_empty());
        // A run that started and ended between two questions: both events.
        let quick = sync_events(Some(&None), Some(&done), &o, &EN);
        assert_eq!(states(&quick), ["started", "finished"]);
        // A new run after a finished one; held and failed ends.
        let held = run("r2", false, Some(RunResult::Held));
        assert_eq!(
            states(&sync_events(
                Some(&Some(done.clone())),
                Some(&held),
                &o,
                &EN
            )),
            ["started", "held"]
        );
        let failed = run("r3", false, Some(RunResult::Unauthorized));
        let e = sync_events(Some(&Some(running)), Some(&failed), &o, &EN);
        assert_eq!(states(&e), ["started", "failed"]);
        assert_eq!(e[1].message.as_deref(), Some(EN.outcome_unauthorized));
    }
}

/// The preview dialog, as a separate wasm chunk fetched the first time a switch is previewed.
#[lazy]
pub fn preview_dialog(preview: SwitchPreview, name: String) -> AnyView {
    view! { <PreviewDialog preview name/> }.into_any()
}

/// The preview of switching the directory's source, with Confirm and Cancel; Escape cancels.
/// Nothing changes before Confirm.
#[component]
fn PreviewDialog(preview: SwitchPreview, name: String) -> impl IntoView {
    use crate::api::sync::{CancelSwitch, ConfirmSwitch};
    let panel = expect_context::<Panel>();
    let a = panel.actions;
    let t = use_texts();
    let busy =
        Signal::derive(move || a.confirm_switch.pending().get() || a.cancel_switch.pending().get());
    let id = preview.id.clone();
    let cancel = move || {
        a.cancel_switch.dispatch(CancelSwitch { id: id.clone() });
    };
    let cancel_key = cancel.clone();
    let confirm_id = preview.id.clone();
    view! {
        <div class="dialog-backdrop">
            <div
                class="dialog"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="preview-title"
                aria-describedby="preview-body"
                on:keydown=move |ev| if ev.key() == "Escape" { cancel_key() }
            >
                <h2 id="preview-title">{(t.preview_title)(&name)}</h2>
                <div id="preview-body">
                    <p>{t.preview_intro}</p>
                    <ul class="preview-counts">
                        <li>{(t.preview_joiners)(preview.joiners.max(0) as u64)}</li>
                        <li>{(t.preview_leavers)(preview.leavers.max(0) as u64)}</li>
                        <li>{(t.preview_matched)(preview.matched.max(0) as u64)}</li>
                        {(preview.matched_by_email > 0).then(|| view! {
                            <li>{(t.preview_matched_by_email)(preview.matched_by_email as u64)}</li>
                        })}
                    </ul>
                </div>
                <div class="dialog-actions">
                    <button type="button" class="button" autofocus disabled=busy on:click=move |_| {
                        a.confirm_switch.dispatch(ConfirmSwitch { id: confirm_id.clone() });
                    }>
                        {t.confirm_switch_button}
                    </button>
                    <button type="button" class="button button-quiet" disabled=busy on:click=move |_| cancel()>
                        {t.cancel}
                    </button>
                </div>
            </div>
        </div>
    }
}
