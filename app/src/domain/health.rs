//! What a connection's last check found, kept as a short code (`works`, `status:PAUSED`,
//! `error:rate_limited:30`, ...) so that each reader sees it in their own language.

use std::time::Duration;

use crate::{i18n::Texts, provider::LinkStatus, provider::ProviderError};

use crate::model::HealthStatus;

/// The finding behind a connection's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthDetail {
    /// The provider reports the account complete: data flows.
    Works,
    /// Linked, no sync has run yet.
    Idle,
    /// The customer did not finish linking.
    Incomplete,
    /// A status the provider reports that we have no words for.
    ProviderStatus(String),
    /// The check failed.
    Failed(ProviderError),
}

impl HealthDetail {
    /// The health and its finding, from the linked account's status.
    pub fn of_status(status: &LinkStatus) -> (HealthStatus, HealthDetail) {
        match status {
            LinkStatus::Complete => (HealthStatus::Ok, HealthDetail::Works),
            LinkStatus::Idle => (HealthStatus::Ok, HealthDetail::Idle),
            LinkStatus::RelinkNeeded => (
                HealthStatus::RelinkNeeded,
                HealthDetail::Failed(ProviderError::RelinkNeeded),
            ),
            LinkStatus::Incomplete => (HealthStatus::Failing, HealthDetail::Incomplete),
            LinkStatus::Other(s) => (
                HealthStatus::Failing,
                HealthDetail::ProviderStatus(s.clone()),
            ),
        }
    }

    /// The health a failed check leaves.
    pub fn of_failure(e: ProviderError) -> (HealthStatus, HealthDetail) {
        let health = match e {
            ProviderError::TokenRejected | ProviderError::RelinkNeeded => {
                HealthStatus::RelinkNeeded
            }
            _ => HealthStatus::Failing,
        };
        (health, HealthDetail::Failed(e))
    }

    /// The stored form.
    pub fn code(&self) -> String {
        match self {
            HealthDetail::Works => "works".into(),
            HealthDetail::Idle => "idle".into(),
            HealthDetail::Incomplete => "incomplete".into(),
            HealthDetail::ProviderStatus(s) => format!("status:{s}"),
            HealthDetail::Failed(e) => match e {
                ProviderError::TokenRejected => "error:token_rejected".into(),
                ProviderError::RelinkNeeded => "error:relink_needed".into(),
                ProviderError::NotFound => "error:not_found".into(),
                ProviderError::RateLimited { retry_after: None } => "error:rate_limited".into(),
                ProviderError::RateLimited {
                    retry_after: Some(d),
                } => format!("error:rate_limited:{}", d.as_secs()),
                ProviderError::Unavailable => "error:unavailable".into(),
                ProviderError::TimedOut => "error:timed_out".into(),
                ProviderError::UnexpectedResponse => "error:unexpected_response".into(),
                ProviderError::InvalidRequest => "error:invalid_request".into(),
            },
        }
    }

    /// Reads a stored code; `None` for anything this code did not write.
    pub fn from_code(code: &str) -> Option<HealthDetail> {
        if let Some(status) = code.strip_prefix("status:") {
            return Some(HealthDetail::ProviderStatus(status.to_string()));
        }
        if let Some(secs) = code.strip_prefix("error:rate_limited:") {
            return secs.parse().ok().map(|s| {
                HealthDetail::Failed(ProviderError::RateLimited {
                    retry_after: Some(Duration::from_secs(s)),
                })
            });
        }
        Some(match code {
            "works" => HealthDetail::Works,
            "idle" => HealthDetail::Idle,
            "incomplete" => HealthDetail::Incomplete,
            "error:token_rejected" => HealthDetail::Failed(ProviderError::TokenRejected),
            "error:relink_needed" => HealthDetail::Failed(ProviderError::RelinkNeeded),
            "error:not_found" => HealthDetail::Failed(ProviderError::NotFound),
            "error:rate_limited" => {
                HealthDetail::Failed(ProviderError::RateLimited { retry_after: None })
            }
            "error:unavailable" => HealthDetail::Failed(ProviderError::Unavailable),
            "error:timed_out" => HealthDetail::Failed(ProviderError::TimedOut),
            "error:unexpected_response" => HealthDetail::Failed(ProviderError::UnexpectedResponse),
            "error:invalid_request" => HealthDetail::Failed(ProviderError::InvalidRequest),
            _ => return None,
        })
    }

    /// The finding in the words of `t`.
    pub fn message(&self, t: &Texts) -> String {
        match self {
            HealthDetail::Works => t.health_works.into(),
            HealthDetail::Idle => t.health_idle.into(),
            HealthDetail::Incomplete => t.health_incomplete.into(),
            HealthDetail::ProviderStatus(s) => (t.provider_reports)(s),
            HealthDetail::Failed(e) => e.message(t),
        }
    }

    /// A stored code in the words of `t` (text from elsewhere is shown as it is).
    pub fn describe(stored: &str, t: &Texts) -> String {
        HealthDetail::from_code(stored)
            .map(|d| d.message(t))
            .unwrap_or_else(|| stored.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{DE, EN};

    #[test]
    fn every_finding_survives_its_code_and_reads_in_each_language() {
        let all = [
            HealthDetail::Works,
            HealthDetail::Idle,
            HealthDetail::Incomplete,
            HealthDetail::ProviderStatus("PAUSED".into()),
            HealthDetail::Failed(ProviderError::TokenRejected),
            HealthDetail::Failed(ProviderError::RelinkNeeded),
            HealthDetail::Failed(ProviderError::NotFound),
            HealthDetail::Failed(ProviderError::RateLimited { retry_after: None }),
            HealthDetail::Failed(ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(120)),
            }),
            HealthDetail::Failed(ProviderError::Unavailable),
            HealthDetail::Failed(ProviderError::TimedOut),
            HealthDetail::Failed(ProviderError::UnexpectedResponse),
            HealthDetail::Failed(ProviderError::InvalidRequest),
        ];
        for d in all {
            assert_eq!(HealthDetail::from_code(&d.code()), Some(d.clone()), "{d:?}");
            assert_ne!(d.message(&EN), d.message(&DE), "{d:?}");
        }
        assert_eq!(
            HealthDetail::describe("status:PAUSED", &DE),
            (DE.provider_reports)("PAUSED")
        );
        assert_eq!(HealthDetail::describe("works", &DE), DE.health_works);
        assert_eq!(
            HealthDetail::describe("error:rate_limited:120", &DE),
            DE.rate_limited(Some(120))
        );
        assert_eq!(
            HealthDetail::describe("something else", &DE),
            "something else"
        );
        assert_eq!(HealthDetail::from_code("error:rate_limited:soon"), None);
    }
}
