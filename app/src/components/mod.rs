//! Building blocks shared by the pages.

pub mod connect;
pub mod connections;
pub mod employees;
pub mod frame;
pub mod health_alerts;
pub mod host;
pub mod localized;
pub mod merge_link;
pub mod notice;
pub mod other_systems;
pub mod sync;
pub mod timeline;
pub mod webhook_log;
