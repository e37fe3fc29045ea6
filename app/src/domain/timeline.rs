//! The organization's timeline: who did what and when, newest first, a page at a time. The words
//! are the reader's (`Texts::timeline_entry`); this part reads the audit log and pages it.

use crate::{
    auth::Identity,
    error::AppError,
    i18n::Texts,
    model::{EntryResult, OrganizationId, TimelineEntry, TimelinePage},
    state::AppState,
    storage::{now_ms, AuditAction, AuditEvent, SYSTEM_ACTOR},
};

/// Entries per page.
pub const PAGE_SIZE: u32 = 20;
/// The last page anyone may ask for (a bound on the offset the database skips).
pub const MAX_PAGE: u32 = 10_000;

/// Page `page` (from 1) of the caller's own organization's timeline.
pub async fn own(state: &AppState, who: &Identity, page: u32) -> Result<TimelinePage, AppError> {
    of(state, who.texts(), &who.org_id, page).await
}

/// Page `page` (from 1) of `org_id`'s timeline, times in the words of `t`. The caller has checked
/// that the reader may see this organization's timeline.
pub async fn of(
    state: &AppState,
    t: &Texts,
    org_id: &OrganizationId,
    page: u32,
) -> Result<TimelinePage, AppError> {
    let page = page.clamp(1, MAX_PAGE);
    let size = i64::from(PAGE_SIZE);
    // One more than a page tells whether there is a next one.
    let mut events = state
        .db
        .timeline(org_id, now_ms(), size + 1, i64::from(page - 1) * size)
        .await?;
    let has_more = events.len() as i64 > size;
    events.truncate(PAGE_SIZE as usize);
    Ok(TimelinePage {
        entries: events.iter().map(|e| entry(e, t)).collect(),
        page,
        has_more,
    })
}

fn entry(e: &AuditEvent, t: &Texts) -> TimelineEntry {
    TimelineEntry {
        action: e.action,
        actor: (e.actor.id.as_str() != SYSTEM_ACTOR).then(|| e.actor.name.clone()),
        subject: e.subject_name.clone(),
        result: if matches!(
            e.action,
            AuditAction::ConnectionTested | AuditAction::ConnectionHealthChanged
        ) {
            e.outcome.parse().ok().map(EntryResult::Health)
        } else if e.action == AuditAction::WebhookReplayed {
            e.outcome.parse().ok().map(EntryResult::Webhook)
        } else {
            None
        },
        at: super::format_time(e.created_at, t),
    }
}
