//! What the embedded widget's bridge script needs to know (public: no secrets in it).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedSettings {
    /// The admin shells allowed to frame the widget and to talk to it.
    pub host_origins: Vec<String>,
}

#[server(endpoint = "embed/config")]
pub async fn embed_config() -> Result<EmbedSettings, AppError> {
    let state = crate::state::app_state()?;
    Ok(EmbedSettings {
        host_origins: state.settings.allowed_host_origins.clone(),
    })
}
