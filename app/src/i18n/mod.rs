//! The widget's words, one place per locale: `en.rs` and `de.rs` each hold one [`Texts`].
//!
//! Which locale: the page URL's `?locale=` (the embedding shell's mount option), else the signed-in
//! user's (the host token's `locale` claim), else English. The server decides it per page request
//! (`components::localized::page_locale`), the app provides it as context; the server composes its messages (errors,
//! health) with the caller's [`Texts`] too. A new locale is a new file and a new [`Locale`] variant.

mod de;
mod en;

use serde::{Deserialize, Serialize};

pub use de::DE;
pub use en::EN;

/// A time for display in these words, in the browser and on the server alike (no time library in
/// the browser): "24 Nov 2026, 15:20 UTC", "24.11.2026, 15:20 UTC".
pub fn format_instant(ms: i64, t: &Texts) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = (t.date)(&day.to_string(), &month.to_string(), &year.to_string());
    format!("{date}, {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

/// A language of the UI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    De,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// `en`, `de`, `de-DE`, `de_AT`, `DE`...; anything unknown is English.
    pub fn parse(tag: &str) -> Locale {
        let language = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Locale::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(language))
            .unwrap_or_default()
    }

    /// The BCP 47 language code, for `<html lang>` and Merge Link.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Locale::En => &EN,
            Locale::De => &DE,
        }
    }
}

/// The texts of the locale the current page was rendered in (English outside a `Localized` page).
pub fn use_texts() -> &'static Texts {
    use_locale().texts()
}

/// The language of the page being built: its URL's `?locale=` (after a client-side navigation),
/// else the one the page was first loaded in.
pub fn use_locale() -> Locale {
    crate::components::localized::url_locale()
        .or_else(leptos::prelude::use_context::<Locale>)
        .unwrap_or_default()
}

/// Declares [`Texts`]; fields are grouped by their shape so that [`Texts::phrases`] can list them all.
macro_rules! texts {
    (
        words { $($(#[$wm:meta])* $w:ident),* $(,)? }
        one { $($(#[$om:meta])* $o:ident),* $(,)? }
        two { $($(#[$tm:meta])* $t:ident),* $(,)? }
        three { $($(#[$hm:meta])* $h:ident),* $(,)? }
        number { $($(#[$nm:meta])* $n:ident),* $(,)? }
    ) => {
        /// Every user-visible string of the widget and the standalone pages, in one language.
        /// Sentences with values are functions; values (names, dates) are never translated.
        pub struct Texts {
            $($(#[$wm])* pub $w: &'static str,)*
            $($(#[$om])* pub $o: fn(&str) -> String,)*
            $($(#[$tm])* pub $t: fn(&str, &str) -> String,)*
            $($(#[$hm])* pub $h: fn(&str, &str, &str) -> String,)*
            $($(#[$nm])* pub $n: fn(u64) -> String,)*
        }

        impl Texts {
            /// Every text with its values cut out: the fixed fragments users can see.
            pub fn phrases(&self) -> Vec<String> {
                const M: &str = "\u{1}";
                const N: u64 = 987_654_321;
                let mut all: Vec<String> = vec![$(self.$w.to_string()),*];
                $(all.push((self.$o)(M));)*
                $(all.push((self.$t)(M, M));)*
                $(all.push((self.$h)(M, M, M));)*
                $(all.push((self.$n)(N).replace(&N.to_string(), M));)*
                let mut out: Vec<String> = Vec::new();
                for text in all {
                    for fragment in text.split(M).map(str::trim) {
                        if fragment.chars().any(char::is_alphabetic) && !out.iter().any(|o| o == fragment) {
                            out.push(fragment.to_string());
                        }
                    }
                }
                out
            }
        }
    };
}

texts! {
    words {
        app_name, loading, working, cancel, sign_in,
        /// Followed by a "Sign in" link.
        not_signed_in,
        nav_main_label, nav_hris, nav_desk, sign_out,
        hris_title, breadcrumb_label, breadcrumb_admin, breadcrumb_integrations,
        switch_label, switch_on, switch_off, enabled_intro, disabled_intro,
        connected_heading, directory_heading, other_heading, other_connected_heading,
        search_label, connect, no_match,
        connection_name, connection_name_hint, create_name, link_explainer, continue_on_merge,
        link_unavailable, link_cancelled, needs_script,
        none_connected, none_other_connected,
        health_unknown, health_ok, health_relink, health_failing,
        status_pending, status_active, status_inactive,
        continue_setup, remove, deactivate, activate, test_connection, relink_flow, delete,
        confirm_delete_body,
        other_intro, field_name, field_id, field_token, add_connection, checking_with_merge,
        dev_signin_intro, signin_elsewhere,
        demo_role_admin, demo_role_user, demo_role_desk, demo_role_second_admin,
        /// The embedding bridge's error event when the admin shell's token is refused.
        bridge_token_refused,
        /// The embedding bridge's error event when the sign-in request got no answer.
        bridge_unreachable,
        not_found_title, page_not_found, go_to_hris,
        desk_title, desk_create_heading, desk_organization, desk_choose_org, desk_hr_system,
        desk_any_system_choice, desk_create_button, desk_magic_link, desk_copy_link, desk_copied,
        desk_links_heading, desk_no_links, col_system, col_issued, col_expires, col_status, col_id,
        col_actions, desk_connections_heading, desk_no_connections, desk_link_created,
        desk_link_revoked, desk_any_system, link_pending, link_used, link_expired, link_revoked,
        revoke, reveal_token, token_prefix, replace_token,
        perm_manage, perm_desk,
        err_unauthenticated, err_not_found, err_unreachable, err_internal,
        name_empty, name_control, turn_on_first, not_linked_yet, cannot_connect_directly,
        set_up_by_desk, link_result_missing, different_account, health_works, health_idle,
        health_incomplete, finish_before_activating, enter_account_id, enter_token,
        account_already_connected, token_rejected, id_mismatch, only_manual_replace,
        enter_new_token, token_other_account, choose_system_from_list, only_pending_revoke,
        no_token_to_reveal, manual_note, changed_meanwhile, activated_meanwhile, already_deleted,
        link_not_this_connection, link_result_invalid, name_invisible,
        prov_token_rejected, prov_relink_needed, prov_not_found, prov_rate_limited, retry_soon,
        prov_unavailable, prov_timed_out, prov_unexpected, prov_invalid,
        sync_no_active_connection, sync_already_running, sync_already_queued, hold_not_pending,
        preview_not_open, preview_outdated,
        timeline_heading, timeline_empty, page_newer, page_older, pages_label,
        /// Stands for a connection whose name the event did not keep.
        tl_a_connection,
        tl_link_expired,
        wh_heading, wh_empty, col_received, col_event, col_account, col_signature, col_result,
        wh_valid, wh_invalid, wh_unknown_key,
        wh_handled, wh_duplicate, wh_ignored, wh_failed, wh_rejected,
        wh_r_not_json, wh_r_unknown_event, wh_r_missing_fields, wh_r_bad_input,
        wh_r_unknown_account, wh_r_temporary, wh_r_in_progress,
        wh_replay, replay_signature_not_valid, replay_body_not_kept, replay_only_failed,
        /// The label of the banners of connections that stopped working.
        health_alerts_label,
        sync_heading, sync_state_never, sync_state_queued, sync_state_running, sync_state_up_to_date, sync_state_attention, sync_now, sync_queued_now, sync_no_success, sync_schedule_stopped, sync_progress_label, col_stream, col_pages, col_records, stream_locations, stream_teams, stream_groups, stream_employees, stream_employments, history_heading, history_empty, col_started, col_duration, col_trigger, col_added, col_changed, col_deactivated, col_held, col_outcome, trigger_activation, trigger_relink, trigger_schedule, trigger_poll, trigger_webhook, outcome_queued, outcome_running, outcome_done, outcome_held, outcome_partial, outcome_provider_failed, outcome_unauthorized, outcome_failed, held_heading, col_person, col_email, col_team, col_last_seen, col_reason, reason_terminated, reason_deleted, reason_missing, apply_removals, keep_everyone, kept_everyone, people_heading, people_search, people_search_hint, people_show, filter_active, filter_inactive, filter_all, people_search_button, col_job_title, col_manager, col_location, col_last_changed, people_empty, people_next, people_first, people_pages_label, history_pages_label, preview_intro, confirm_switch_button, page_out_of_range, search_too_long, filter_unknown, cursor_invalid,
    }
    one {
        integration_for, dialog_connect, dialog_relink, dialog_finish, is_connected, now_active,
        deactivated, deleted, deleted_already_gone, actions_for, account_id_line, confirm_delete_title,
        confirm_activate_title, was_added, sign_in_as, desk_by, token_replaced, desk_id_line,
        new_token_for, err_forbidden, err_bad_request, name_taken, provider_reports, not_deleted,
        token_unchecked, merge_status,
        /// A name in quotation marks.
        tl_quoted,
        /// (actor)
        tl_hris_enabled, tl_hris_disabled, tl_link_issued, tl_link_revoked, tl_link_used,
        tl_token_revealed,
        /// (who replayed it)
        wh_replay_by,
        /// (the replay's result)
        wh_replayed,
        sync_last_success, sync_next, preview_title, switch_cancelled, sync_card_for, duration_sec,
    }
    two {
        test_succeeded, test_failed, last_check, created_line,
        /// (the active connection, the one to activate)
        confirm_activate_body,
        /// (actor, the connection's name in quotation marks)
        tl_created, tl_linked, tl_relinked, tl_relink_refused, tl_link_refused, tl_activated,
        tl_deactivated, tl_deleted, tl_added_manually, tl_token_replaced,
        tl_sync_completed, tl_sync_failed, tl_sync_held, tl_sync_applied, tl_sync_kept,
        tl_sync_switched,
        /// (actor, the connection's name in quotation marks): it works again.
        tl_health_restored,
        /// (the connection's name, when): the banner of an active connection that stopped working.
        health_banner,
        /// (outcome, reason)
        wh_with_reason,
        held_banner, duration_min_sec,
    }
    three {
        /// (by, issued at, expires at)
        desk_issued_line,
        /// A calendar date: (day, month 1–12, year).
        date,
        /// (actor, the connection's name in quotation marks, the test's result)
        tl_tested,
        /// (actor, the event type, the replay's result)
        tl_webhook_replayed,
        /// (actor, the connection's name in quotation marks, its health now)
        tl_health_broken,
    }
    number { name_too_long, retry_in, page_number, preview_joiners, preview_leavers, preview_matched, preview_matched_by_email, removals_applied }
}

impl Texts {
    pub fn permission(&self, p: crate::model::Permission) -> &'static str {
        match p {
            crate::model::Permission::ManageIntegrations => self.perm_manage,
            crate::model::Permission::ServiceDesk => self.perm_desk,
        }
    }

    pub fn demo_role(&self, r: crate::model::DemoRole) -> &'static str {
        use crate::model::DemoRole;
        match r {
            DemoRole::Admin => self.demo_role_admin,
            DemoRole::User => self.demo_role_user,
            DemoRole::Desk => self.demo_role_desk,
            DemoRole::SecondAdmin => self.demo_role_second_admin,
        }
    }

    pub fn health(&self, h: crate::model::HealthStatus) -> &'static str {
        use crate::model::HealthStatus;
        match h {
            HealthStatus::Unknown => self.health_unknown,
            HealthStatus::Ok => self.health_ok,
            HealthStatus::RelinkNeeded => self.health_relink,
            HealthStatus::Failing => self.health_failing,
        }
    }

    pub fn magic_link_status(&self, s: crate::model::MagicLinkStatus) -> &'static str {
        use crate::model::MagicLinkStatus;
        match s {
            MagicLinkStatus::Pending => self.link_pending,
            MagicLinkStatus::Used => self.link_used,
            MagicLinkStatus::Expired => self.link_expired,
            MagicLinkStatus::Revoked => self.link_revoked,
        }
    }

    /// A timeline entry in these words. An exhaustive match: a new audit action does not compile
    /// until it has words here.
    pub fn timeline_entry(&self, e: &crate::model::TimelineEntry) -> String {
        use crate::model::{AuditAction as A, EntryResult};
        let actor = e.actor.as_deref().unwrap_or_default();
        let name = if e.subject.is_empty() {
            self.tl_a_connection.to_string()
        } else {
            (self.tl_quoted)(&e.subject)
        };
        let result = match e.result {
            Some(EntryResult::Health(h)) => self.health(h),
            Some(EntryResult::Webhook(o)) => self.webhook_outcome(o),
            None => "",
        };
        match e.action {
            A::HrisEnabled => (self.tl_hris_enabled)(actor),
            A::HrisDisabled => (self.tl_hris_disabled)(actor),
            A::ConnectionCreated => (self.tl_created)(actor, &name),
            A::ConnectionLinked => (self.tl_linked)(actor, &name),
            A::ConnectionRelinked => (self.tl_relinked)(actor, &name),
            A::ConnectionRelinkRefused => (self.tl_relink_refused)(actor, &name),
            A::ConnectionLinkRefused => (self.tl_link_refused)(actor, &name),
            A::ConnectionTested => (self.tl_tested)(actor, &name, result),
            A::ConnectionActivated => (self.tl_activated)(actor, &name),
            A::ConnectionDeactivated => (self.tl_deactivated)(actor, &name),
            A::ConnectionDeleted => (self.tl_deleted)(actor, &name),
            A::ConnectionAddedManually => (self.tl_added_manually)(actor, &name),
            A::ConnectionTokenReplaced => (self.tl_token_replaced)(actor, &name),
            A::ConnectionHealthChanged => match e.result {
                Some(EntryResult::Health(crate::model::HealthStatus::Ok)) => {
                    (self.tl_health_restored)(actor, &name)
                }
                _ => (self.tl_health_broken)(actor, &name, result),
            },
            A::MagicLinkIssued => (self.tl_link_issued)(actor),
            A::MagicLinkRevoked => (self.tl_link_revoked)(actor),
            A::MagicLinkUsed => (self.tl_link_used)(actor),
            A::MagicLinkTokenRevealed => (self.tl_token_revealed)(actor),
            A::MagicLinkExpired => self.tl_link_expired.to_string(),
            A::WebhookReplayed => (self.tl_webhook_replayed)(actor, &e.subject, result),
            A::SyncCompleted => (self.tl_sync_completed)(actor, &name),
            A::SyncFailed => (self.tl_sync_failed)(actor, &name),
            A::SyncRemovalsHeld => (self.tl_sync_held)(actor, &name),
            A::SyncRemovalsApplied => (self.tl_sync_applied)(actor, &name),
            A::SyncRemovalsKept => (self.tl_sync_kept)(actor, &name),
            A::SyncSourceSwitched => (self.tl_sync_switched)(actor, &name),
        }
    }

    pub fn webhook_verdict(&self, v: crate::model::WebhookVerdict) -> &'static str {
        use crate::model::WebhookVerdict as V;
        match v {
            V::Valid => self.wh_valid,
            V::Invalid => self.wh_invalid,
            V::UnknownKey => self.wh_unknown_key,
        }
    }

    pub fn webhook_outcome(&self, o: crate::model::WebhookOutcome) -> &'static str {
        use crate::model::WebhookOutcome as O;
        match o {
            O::Handled => self.wh_handled,
            O::Duplicate => self.wh_duplicate,
            O::Ignored => self.wh_ignored,
            O::Failed => self.wh_failed,
            O::Rejected => self.wh_rejected,
        }
    }

    pub fn webhook_reason(&self, r: crate::model::WebhookReason) -> &'static str {
        use crate::model::WebhookReason as R;
        match r {
            R::NotJson => self.wh_r_not_json,
            R::UnknownEvent => self.wh_r_unknown_event,
            R::MissingFields => self.wh_r_missing_fields,
            R::BadInput => self.wh_r_bad_input,
            R::UnknownAccount => self.wh_r_unknown_account,
            R::Temporary => self.wh_r_temporary,
            R::InProgress => self.wh_r_in_progress,
        }
    }

    /// What was done with a delivery, and why when there is a reason: "Failed: unknown linked account".
    pub fn webhook_result(
        &self,
        o: crate::model::WebhookOutcome,
        r: Option<crate::model::WebhookReason>,
    ) -> String {
        match r {
            Some(r) => (self.wh_with_reason)(self.webhook_outcome(o), self.webhook_reason(r)),
            None => self.webhook_outcome(o).to_string(),
        }
    }

    pub fn replay_block(&self, b: crate::model::ReplayBlock) -> &'static str {
        use crate::model::ReplayBlock as B;
        match b {
            B::SignatureNotValid => self.replay_signature_not_valid,
            B::BodyNotKept => self.replay_body_not_kept,
        }
    }

    pub fn sync_state(&self, s: crate::model::SyncState) -> &'static str {
        use crate::model::SyncState as S;
        match s {
            S::NeverSynced => self.sync_state_never,
            S::Queued => self.sync_state_queued,
            S::Running => self.sync_state_running,
            S::UpToDate => self.sync_state_up_to_date,
            S::NeedsAttention => self.sync_state_attention,
        }
    }

    pub fn run_trigger(&self, r: crate::model::RunTrigger) -> &'static str {
        use crate::model::RunTrigger as T;
        match r {
            T::Activation => self.trigger_activation,
            T::Relink => self.trigger_relink,
            T::Schedule => self.trigger_schedule,
            T::Poll => self.trigger_poll,
            T::Webhook => self.trigger_webhook,
            T::Manual => self.sync_now,
        }
    }

    /// A run's outcome with its reason in plain words (or that it has not ended yet).
    pub fn run_outcome(&self, run: &crate::model::SyncRunView) -> &'static str {
        use crate::model::RunResult as R;
        match run.result {
            None if run.running => self.outcome_running,
            None => self.outcome_queued,
            Some(R::Done) => self.outcome_done,
            Some(R::Held) => self.outcome_held,
            Some(R::Partial) => self.outcome_partial,
            Some(R::ProviderFailed) => self.outcome_provider_failed,
            Some(R::Unauthorized) => self.outcome_unauthorized,
            Some(R::Failed) => self.outcome_failed,
        }
    }

    pub fn leave_reason(&self, r: crate::model::LeaveReason) -> &'static str {
        use crate::model::LeaveReason as L;
        match r {
            L::Terminated => self.reason_terminated,
            L::Deleted => self.reason_deleted,
            L::Missing => self.reason_missing,
        }
    }

    /// A sync stream's name (`employees`...); an unknown one as it is.
    pub fn stream(&self, s: &str) -> String {
        match s {
            "locations" => self.stream_locations,
            "teams" => self.stream_teams,
            "groups" => self.stream_groups,
            "employees" => self.stream_employees,
            "employments" => self.stream_employments,
            other => return other.to_string(),
        }
        .to_string()
    }

    /// How long something took: "45 sec", "2 min 5 sec".
    pub fn duration(&self, ms: i64) -> String {
        let secs = (ms.max(0) + 500) / 1000;
        if secs < 60 {
            (self.duration_sec)(&secs.to_string())
        } else {
            (self.duration_min_sec)(&(secs / 60).to_string(), &(secs % 60).to_string())
        }
    }

    /// "The HR data service is limiting requests right now." and when to try again.
    pub fn rate_limited(&self, retry_after_secs: Option<u64>) -> String {
        match retry_after_secs {
            Some(s) if s > 0 => format!("{} {}", self.prov_rate_limited, (self.retry_in)(s)),
            _ => format!("{} {}", self.prov_rate_limited, self.retry_soon),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_of_one_second_are_singular() {
        assert!(EN.rate_limited(Some(1)).ends_with("try again in 1 second."));
        assert!(EN
            .rate_limited(Some(2))
            .ends_with("try again in 2 seconds."));
        assert!(DE.rate_limited(Some(1)).ends_with("in 1 Sekunde erneut."));
        assert!(DE
            .rate_limited(Some(30))
            .ends_with("in 30 Sekunden erneut."));
    }

    #[test]
    fn instants_read_as_day_month_year_and_utc_clock() {
        assert_eq!(
            format_instant(1_795_533_600_000, &EN),
            "24 Nov 2026, 15:20 UTC"
        );
        assert_eq!(
            format_instant(1_772_413_500_000, &DE),
            "2.3.2026, 01:05 UTC"
        );
        assert_eq!(
            format_instant(951_782_400_000, &EN),
            "29 Feb 2000, 00:00 UTC"
        );
        assert_eq!(EN.duration(59_400), "59 sec");
        assert_eq!(EN.duration(125_000), "2 min 5 sec");
        assert_eq!(DE.duration(125_000), "2 Min. 5 Sek.");
    }

    #[test]
    fn locales_parse_from_tags() {
        assert_eq!(Locale::parse("de"), Locale::De);
        assert_eq!(Locale::parse("de-DE"), Locale::De);
        assert_eq!(Locale::parse("DE_at"), Locale::De);
        assert_eq!(Locale::parse("en-GB"), Locale::En);
        assert_eq!(Locale::parse("fr"), Locale::En);
        assert_eq!(Locale::parse(""), Locale::En);
    }

    /// Every English phrase has a German one that differs, unless the word is the same in German
    /// (names, "ID", "Token"...): a missing translation shows up here.
    #[test]
    fn german_is_complete() {
        let same_in_both = [
            "HRIS Connect",
            "Name",
            "ID",
            "Token",
            "Token:",
            "Status",
            "Service-Desk",
            "Teams",
        ];
        let de = DE.phrases();
        let untranslated: Vec<String> = EN
            .phrases()
            .into_iter()
            .filter(|p| de.contains(p) && !same_in_both.contains(&p.as_str()))
            .collect();
        assert_eq!(untranslated, Vec::<String>::new());
    }

    #[cfg(feature = "ssr")]
    /// `end2end/tests/english-phrases.json`: the English phrases the German spec must not find.
    /// Regenerate with `HRIS_UPDATE_PHRASES=1 cargo test -p app --features ssr i18n`.
    #[test]
    fn english_phrases_file_is_current() {
        let de = DE.phrases();
        let english: Vec<String> = EN
            .phrases()
            .into_iter()
            .filter(|p| !de.contains(p))
            .collect();
        let json = serde_json::to_string_pretty(&english).unwrap() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../end2end/tests/english-phrases.json"
        );
        if std::env::var_os("HRIS_UPDATE_PHRASES").is_some() {
            std::fs::write(path, &json).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == json,
            "{path} is out of date: run HRIS_UPDATE_PHRASES=1 cargo test -p app --features ssr i18n"
        );
    }
}
