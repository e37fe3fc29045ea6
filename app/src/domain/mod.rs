//! The product's rules, callable without a browser. Server functions check identity and permission,
//! then call in here.

pub mod connections;
pub mod directory;
pub mod magic_links;
pub mod organization;
pub mod webhooks;

/// A time for display: "24 Nov 2026, 15:20 UTC".
pub fn format_time(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_day_month_year_and_utc_clock() {
        assert_eq!(
            super::format_time(1_795_533_600_000),
            "24 Nov 2026, 15:20 UTC"
        );
    }
}
