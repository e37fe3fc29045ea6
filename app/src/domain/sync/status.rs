//! What the admin's page shows of the sync (issue 14): the active connection's sync card, the
//! history of runs, the removals the safety brake holds, the synced directory, and Activate on a
//! second connection (a preview first when the directory has people). Reads only, except
//! [`switch`], which activates directly when there is nothing to preview.

use crate::{
    auth::Identity,
    error::AppError,
    model::{
        Activation, ConnectionId, DirectoryPage, DirectoryPerson, HeldPerson, HeldRemovals,
        LeaveReason, PeopleFilter, RunResult, RunTrigger, StreamProgressView, SyncCounts,
        SyncHistoryPage, SyncOverview, SyncRunView, SyncState,
    },
    state::AppState,
    storage::{
        now_ms, HoldState, PeopleQuery, RemovalReason, RunOutcome, RunState, SyncMode,
        SyncRunRecord, SyncTrigger,
    },
};

/// Runs per page of the history.
pub const HISTORY_PAGE: i64 = 10;
/// People per page of the directory.
pub const DIRECTORY_PAGE: i64 = 50;

/// A run as the page shows it; never its internal detail text.
pub fn run_view(r: &SyncRunRecord) -> SyncRunView {
    SyncRunView {
        id: r.id.clone(),
        trigger: match r.trigger {
            SyncTrigger::Activation => RunTrigger::Activation,
            SyncTrigger::Relink => RunTrigger::Relink,
            SyncTrigger::Schedule => RunTrigger::Schedule,
            SyncTrigger::Poll => RunTrigger::Poll,
            SyncTrigger::Webhook => RunTrigger::Webhook,
            SyncTrigger::Manual => RunTrigger::Manual,
        },
        running: r.state == RunState::Running,
        finished: r.state == RunState::Finished,
        result: r.outcome.map(|o| match o {
            RunOutcome::Done => RunResult::Done,
            RunOutcome::Held => RunResult::Held,
            RunOutcome::Partial => RunResult::Partial,
            RunOutcome::ProviderFailed => RunResult::ProviderFailed,
            RunOutcome::Unauthorized => RunResult::Unauthorized,
            RunOutcome::Failed => RunResult::Failed,
        }),
        queued_at: r.queued_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        counts: SyncCounts {
            added: r.counts.added,
            changed: r.counts.changed,
            deactivated: r.counts.deactivated,
            reactivated: r.counts.reactivated,
            held: r.counts.held,
        },
    }
}

/// The card's state from the newest run and whether removals wait.
pub fn state_of(latest: Option<&SyncRunRecord>, hold_pending: bool) -> SyncState {
    match latest {
        None => SyncState::NeverSynced,
        Some(r) if r.state == RunState::Queued => SyncState::Queued,
        Some(r) if r.state == RunState::Running => SyncState::Running,
        _ if hold_pending => SyncState::NeedsAttention,
        Some(r) => match r.outcome {
            Some(RunOutcome::Done | RunOutcome::Held | RunOutcome::Partial) => SyncState::UpToDate,
            _ => SyncState::NeedsAttention,
        },
    }
}

/// The sync card of the organization's active connection; `None` when no connection is active.
pub async fn overview(state: &AppState, who: &Identity) -> Result<Option<SyncOverview>, AppError> {
    let Some(c) = state
        .db
        .connections(&who.org_id)
        .await?
        .into_iter()
        .find(|c| c.enabled)
    else {
        return Ok(None);
    };
    let latest = state.db.sync_runs(&who.org_id, 8, 0).await?;
    let latest = latest.into_iter().find(|r| r.connection_id == c.id);
    let hold_pending = state
        .db
        .pending_hold(&who.org_id)
        .await?
        .is_some_and(|r| r.hold_state == Some(HoldState::Pending));
    let sync_state = state_of(latest.as_ref(), hold_pending);
    let progress = match &latest {
        Some(r) if r.state == RunState::Running => state
            .db
            .sync_run_streams(&r.id)
            .await?
            .into_iter()
            .map(|s| StreamProgressView {
                stream: s.stream,
                pages: s.pages,
                records: s.records,
                done: s.done == 1,
            })
            .collect(),
        _ => Vec::new(),
    };
    // Streams in the order the run reads them.
    let mut progress = progress;
    progress.sort_by_key(|p| super::STREAMS.iter().position(|s| *s == p.stream));
    let last_success_at = state
        .db
        .last_complete_run(&c.id, None)
        .await?
        .and_then(|r| r.finished_at);
    let settings = &state.settings.sync;
    let next_at = if c.health_status == crate::model::HealthStatus::RelinkNeeded
        || c.account_token.is_none()
    {
        None
    } else {
        let now = now_ms();
        let poll = settings.poll_interval.as_millis().max(1) as i64;
        let next_poll = (now / poll + 1) * poll;
        let next_full = state
            .db
            .last_complete_run(&c.id, Some(SyncMode::Full))
            .await?
            .and_then(|r| r.started_at)
            .map(|s| s + settings.full_interval.as_millis() as i64)
            .unwrap_or(now);
        Some(next_poll.min(next_full).max(now))
    };
    let (people, _) = state.db.employee_counts(&who.org_id).await?;
    let pending = matches!(sync_state, SyncState::Queued | SyncState::Running);
    Ok(Some(SyncOverview {
        connection_id: c.id,
        name: c.display_name,
        state: sync_state,
        latest: latest.as_ref().map(run_view),
        progress,
        last_success_at,
        next_at,
        people,
        poll_seconds: if pending { 1 } else { 10 },
    }))
}

/// The organization's runs, newest first, a page at a time (pages count from 1).
pub async fn history(
    state: &AppState,
    who: &Identity,
    page: u32,
) -> Result<SyncHistoryPage, AppError> {
    if page == 0 || page > 100_000 {
        return Err(AppError::invalid("page", who.texts().page_out_of_range));
    }
    let offset = i64::from(page - 1) * HISTORY_PAGE;
    let mut runs = state
        .db
        .sync_runs(&who.org_id, HISTORY_PAGE + 1, offset)
        .await?;
    let has_more = runs.len() as i64 > HISTORY_PAGE;
    runs.truncate(HISTORY_PAGE as usize);
    Ok(SyncHistoryPage {
        runs: runs.iter().map(run_view).collect(),
        page,
        has_more,
    })
}

/// The removals the safety brake holds for a decision, if a run's are waiting.
pub async fn held(state: &AppState, who: &Identity) -> Result<Option<HeldRemovals>, AppError> {
    let Some(run) = state.db.pending_hold(&who.org_id).await? else {
        return Ok(None);
    };
    let people = state
        .db
        .held_people(&run.id, HeldRemovals::SHOWN)
        .await?
        .into_iter()
        .map(|p| -> Result<HeldPerson, crate::storage::StoreError> {
            Ok(HeldPerson {
                name: p.name,
                email: p.work_email,
                team: p.team,
                last_seen_at: p.last_seen_at,
                reason: match crate::storage::removal_reason(&p.reason)? {
                    RemovalReason::Terminated => LeaveReason::Terminated,
                    RemovalReason::Deleted => LeaveReason::Deleted,
                    RemovalReason::Missing => LeaveReason::Missing,
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (active, _) = state.db.employee_counts(&who.org_id).await?;
    Ok(Some(HeldRemovals {
        run_id: run.id,
        count: run.counts.held,
        active,
        limit_percent: state.settings.sync.max_deactivate_percent.round().max(0.0) as u32,
        people,
    }))
}

/// The longest search the directory takes (characters).
pub const MAX_SEARCH: usize = 200;

/// A cursor of the directory: the last person's `(name key, id)` as JSON.
fn cursor_of(key: &str, id: &str) -> String {
    serde_json::to_string(&(key, id)).unwrap_or_default()
}

/// A page of the synced directory in name order: `search` is the start of a name or of a work
/// e-mail (any case), `filter` `active` / `inactive` / `all`, `after` the previous page's `next`.
pub async fn directory(
    state: &AppState,
    who: &Identity,
    search: &str,
    filter: &str,
    after: &str,
) -> Result<DirectoryPage, AppError> {
    let t = who.texts();
    let search = search.trim().to_lowercase();
    if search.chars().count() > MAX_SEARCH {
        return Err(AppError::invalid("search", t.search_too_long));
    }
    let filter = if filter.is_empty() {
        PeopleFilter::Active
    } else {
        PeopleFilter::parse(filter).ok_or_else(|| AppError::invalid("filter", t.filter_unknown))?
    };
    let after = if after.is_empty() {
        None
    } else {
        let (key, id): (String, String) = serde_json::from_str(after)
            .map_err(|_| AppError::invalid("after", t.cursor_invalid))?;
        Some((key, id))
    };
    let mut rows = state
        .db
        .directory_people(
            &who.org_id,
            &PeopleQuery {
                search,
                filter,
                after,
                limit: DIRECTORY_PAGE + 1,
            },
        )
        .await?;
    let more = rows.len() as i64 > DIRECTORY_PAGE;
    rows.truncate(DIRECTORY_PAGE as usize);
    let next = more
        .then(|| rows.last().map(|r| cursor_of(&r.name_key, &r.id)))
        .flatten();
    Ok(DirectoryPage {
        people: rows
            .into_iter()
            .map(|r| DirectoryPerson {
                id: r.id,
                name: r.name,
                email: r.work_email,
                job_title: r.job_title,
                team: r.team,
                manager: r.manager,
                location: r.location,
                active: r.active == 1,
                modified_at: r.modified_at,
            })
            .collect(),
        next,
    })
}

/// Activate, as the page asks for it: while another connection is the source of a directory with
/// people, a preview of the switch (nothing changes before [`super::preview::confirm`]); otherwise
/// the connection is activated at once.
pub async fn switch(
    state: &AppState,
    who: &Identity,
    id: &ConnectionId,
) -> Result<Activation, AppError> {
    let t = who.texts();
    let connections = state.db.connections(&who.org_id).await?;
    if !connections.iter().any(|c| c.id == *id) {
        return Err(AppError::NotFound);
    }
    let other_active = connections.iter().any(|c| c.enabled && c.id != *id);
    let (people, _) = state.db.employee_counts(&who.org_id).await?;
    if other_active && people > 0 {
        let preview = super::preview::compute(state, who, t, id).await?;
        return Ok(Activation::Preview(preview));
    }
    crate::domain::connections::activate(state, who, id)
        .await
        .map(Activation::Activated)
}

/// Confirm on a preview: the switch happens (see [`super::preview::confirm`]); returns the
/// connection now active. Another organization's preview, or none, is not found.
pub async fn confirm_switch(
    state: &AppState,
    who: &Identity,
    id: &crate::model::PreviewId,
) -> Result<crate::model::ConnectionView, AppError> {
    if !state.db.preview_exists(&who.org_id, id).await? {
        return Err(AppError::NotFound);
    }
    let t = who.texts();
    let target = state
        .db
        .preview(&who.org_id, id)
        .await?
        .map(|(c, _, _)| c)
        .ok_or_else(|| AppError::Conflict(t.preview_not_open.into()))?;
    super::preview::confirm(state, who, t, id).await?;
    crate::domain::connections::list(state, who)
        .await?
        .into_iter()
        .find(|c| c.id == target)
        .ok_or(AppError::NotFound)
}

/// Cancel on a preview: nothing changes but the preview, which closes.
pub async fn cancel_switch(
    state: &AppState,
    who: &Identity,
    id: &crate::model::PreviewId,
) -> Result<crate::model::PreviewId, AppError> {
    if !state.db.preview_exists(&who.org_id, id).await? {
        return Err(AppError::NotFound);
    }
    super::preview::cancel(state, who, who.texts(), id).await?;
    Ok(id.clone())
}
