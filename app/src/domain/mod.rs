//! The product's rules, callable without a browser. Server functions check identity and permission,
//! then call in here.

pub mod connections;
pub mod directory;
pub mod health;
pub mod health_watch;
pub mod magic_links;
pub mod organization;
pub mod sync;
pub mod timeline;
pub mod webhooks;

use crate::{auth::Identity, i18n::Texts, storage::Actor};

/// The signed-in user as the author of audit events.
pub(crate) fn actor(who: &Identity) -> Actor {
    Actor {
        id: who.user_id.clone(),
        name: who.user_name.clone(),
    }
}

/// A time for display, in the reader's language: "24 Nov 2026, 15:20 UTC", "24.11.2026, 15:20 UTC".
pub fn format_time(ms: i64, t: &Texts) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    let date = (t.date)(
        &at.day().to_string(),
        &u8::from(at.month()).to_string(),
        &at.year().to_string(),
    );
    format!("{date}, {:02}:{:02} UTC", at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    use crate::i18n::{DE, EN};

    #[test]
    fn times_read_as_day_month_year_and_utc_clock_in_each_language() {
        assert_eq!(
            super::format_time(1_795_533_600_000, &EN),
            "24 Nov 2026, 15:20 UTC"
        );
        assert_eq!(
            super::format_time(1_795_533_600_000, &DE),
            "24.11.2026, 15:20 UTC"
        );
        // Early in the year, before ten o'clock: zero-padded clock, no padding on the day.
        assert_eq!(
            super::format_time(1_772_413_500_000, &EN),
            "2 Mar 2026, 01:05 UTC"
        );
        assert_eq!(
            super::format_time(1_772_413_500_000, &DE),
            "2.3.2026, 01:05 UTC"
        );
    }
}
