//! The banners of active connections that stopped working (what the health watch found). While the
//! page is open it asks again at the watch's pace, and passes each change to the host shell as a
//! `health` event (`hris-connect:health`): `ok: false` with the banner's words when a connection
//! stopped working (and for each banner the page opens with), `ok: true` when it works again.

use std::time::Duration;

use leptos::prelude::*;

use crate::{
    api::hris::load_health_alerts,
    components::{
        host::{self, HostEvent},
        localized::page_locale,
    },
    i18n::use_texts,
    model::HealthAlert,
};

#[component]
pub fn HealthAlerts(
    /// Grows when something on the page may have changed a connection's health.
    #[prop(into)]
    refresh: Signal<usize>,
    /// Grown when the banners changed after the page's first answer (the connections list reloads).
    changed: RwSignal<usize>,
) -> impl IntoView {
    let t = use_texts();
    let locale = page_locale();
    let poll = RwSignal::new(0usize);
    let alerts = Resource::new(
        move || (refresh.get(), poll.get()),
        move |_| load_health_alerts(locale.code().to_string()),
    );
    let seen = StoredValue::new(None::<Vec<HealthAlert>>);
    // Effects run in the browser only: each answer schedules the next question, and a timer that
    // finds the question already asked again (by another answer) does nothing.
    Effect::new(move |_| {
        let now = match alerts.get() {
            None => return,
            Some(Ok(now)) => now,
            // Not answered this time (the server was busy, the network went): ask again later.
            Some(Err(_)) => {
                ask_again(poll, RETRY);
                return;
            }
        };
        let before = seen.get_value();
        let events = changes(before.as_deref(), &now.alerts);
        if before.is_some() && !events.is_empty() {
            changed.update(|n| *n += 1);
        }
        for event in events {
            host::emit(&event);
        }
        seen.set_value(Some(now.alerts));
        ask_again(poll, Duration::from_secs(now.poll_seconds.into()));
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                alerts.await.ok().filter(|a| !a.alerts.is_empty()).map(|a| {
                    view! {
                        <section class="health-alerts" aria-label=t.health_alerts_label>
                            {a
                                .alerts
                                .into_iter()
                                .map(|alert| {
                                    view! {
                                        <p class="notice notice-error" role="alert">
                                            <strong>{alert.headline}</strong>
                                            " "
                                            {alert.reason}
                                        </p>
                                    }
                                })
                                .collect_view()}
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

/// How soon a question that was not answered is asked again.
const RETRY: Duration = Duration::from_secs(10);

/// Asks again after `wait`, unless the question was asked again meanwhile (by another answer).
fn ask_again(poll: RwSignal<usize>, wait: Duration) {
    let asked = poll.get_untracked();
    set_timeout(
        move || {
            if poll.try_get_untracked() == Some(asked) {
                poll.try_update(|n| *n += 1);
            }
        },
        wait,
    );
}

/// The host events between what the page showed (`None`: nothing yet) and what it shows now.
fn changes(before: Option<&[HealthAlert]>, now: &[HealthAlert]) -> Vec<HostEvent> {
    let broken = now
        .iter()
        .filter(|a| before.is_none_or(|b| !b.contains(a)))
        .map(|a| HostEvent {
            ok: Some(false),
            message: Some(format!("{} {}", a.headline, a.reason)),
            ..HostEvent::about("health", a.connection_id.as_str(), &a.name)
        });
    let restored = before
        .unwrap_or_default()
        .iter()
        .filter(|b| !now.iter().any(|a| a.connection_id == b.connection_id))
        .map(|b| HostEvent {
            ok: Some(true),
            ..HostEvent::about("health", b.connection_id.as_str(), &b.name)
        });
    broken.chain(restored).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConnectionId, HealthStatus};

    fn alert(id: &str, headline: &str) -> HealthAlert {
        HealthAlert {
            connection_id: ConnectionId::from(id.to_string()),
            name: format!("HR {id}"),
            health: HealthStatus::RelinkNeeded,
            headline: headline.into(),
            reason: "Relink it.".into(),
        }
    }

    #[test]
    fn the_host_hears_of_each_banner_once_and_of_each_repair() {
        let a = alert("a", "HR a stopped working at 10:00.");
        let b = alert("b", "HR b stopped working at 11:00.");
        let first = changes(None, std::slice::from_ref(&a));
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].kind, first[0].ok), ("health", Some(false)));
        assert_eq!(
            first[0].message.as_deref(),
            Some("HR a stopped working at 10:00. Relink it.")
        );
        assert!(changes(Some(std::slice::from_ref(&a)), std::slice::from_ref(&a)).is_empty());
        let next = changes(Some(std::slice::from_ref(&a)), std::slice::from_ref(&b));
        let seen: Vec<_> = next
            .iter()
            .map(|e| (e.connection_id.as_deref(), e.ok))
            .collect();
        assert_eq!(seen, [(Some("b"), Some(false)), (Some("a"), Some(true))]);
        // Broken again later: a new banner, a new event.
        let again = alert("a", "HR a stopped working at 12:00.");
        assert_eq!(changes(Some(&[a]), &[again]).len(), 1);
    }
}
