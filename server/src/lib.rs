//! The HRIS Connect server: configuration, start-up, the HTTP router, operations endpoints.

// Leptos views are deeply nested types; release builds (LTO) compute their layouts here.
#![recursion_limit = "256"]

pub mod admin;
pub mod assets;
pub mod config;
pub mod host_api;
pub mod housekeeping;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod ops;
pub mod router;
pub mod startup;
pub mod webhooks;
