//! Talking to the admin shell that embeds the widget. The page's bridge script
//! (`public/widget-bridge.js`, loaded only on embed pages) defines `window.hrisConnectEmit`, which
//! posts to the host's exact origin; standalone, there is no bridge and events go nowhere.

/// Something the host may want to react to: created, activated, deactivated, tested, relinked,
/// deleted, error, health, sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEvent {
    pub kind: &'static str,
    pub connection_id: Option<String>,
    pub name: Option<String>,
    /// For `tested`: whether the test passed.
    pub ok: Option<bool>,
    pub message: Option<String>,
    /// For `sync`: `started`, `finished`, `failed` or `held`.
    pub state: Option<&'static str>,
    /// For `sync`: the run's id.
    pub run_id: Option<String>,
    /// For `sync` once a run ended: its counts.
    pub counts: Option<crate::model::SyncCounts>,
}

impl HostEvent {
    pub fn about(kind: &'static str, connection_id: &str, name: &str) -> Self {
        HostEvent {
            kind,
            connection_id: Some(connection_id.into()),
            name: Some(name.into()),
            ..Default::default()
        }
    }
}

/// Passes the event to the host shell, if the widget is embedded.
pub fn emit(event: &HostEvent) {
    #[cfg(feature = "hydrate")]
    {
        use js_sys::{Function, Object, Reflect};
        use wasm_bindgen::{JsCast, JsValue};
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(f) = Reflect::get(&window, &"hrisConnectEmit".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return;
        };
        let detail = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&detail, &k.into(), &v);
        };
        if let Some(id) = &event.connection_id {
            set("connectionId", id.into());
        }
        if let Some(name) = &event.name {
            set("name", name.into());
        }
        if let Some(ok) = event.ok {
            set("ok", ok.into());
        }
        if let Some(m) = &event.message {
            set("message", m.into());
        }
        if let Some(state) = event.state {
            set("state", state.into());
        }
        if let Some(run) = &event.run_id {
            set("runId", run.into());
        }
        if let Some(c) = &event.counts {
            let counts = Object::new();
            for (k, v) in [
                ("added", c.added),
                ("changed", c.changed),
                ("deactivated", c.deactivated),
                ("reactivated", c.reactivated),
                ("held", c.held),
            ] {
                let _ = Reflect::set(&counts, &k.into(), &(v as f64).into());
            }
            set("counts", counts.into());
        }
        let _ = f.call2(&window, &event.kind.into(), &detail);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}
