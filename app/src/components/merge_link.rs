//! Merge Link in the browser: loads the Link script (Merge's CDN, or the sandbox's stand-in with the
//! same interface), initializes it with a link token, and opens it from the user's click.
//!
//! `MergeLink.initialize` runs as soon as a link token is known, so that `openLink` can run
//! synchronously inside the click handler: no await in between, so no pop-up blocker interferes.

/// What Link reports back.
pub struct LinkCallbacks {
    pub on_ready: Box<dyn Fn()>,
    pub on_success: Box<dyn Fn(String)>,
    pub on_exit: Box<dyn Fn()>,
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Object, Reflect};
    use wasm_bindgen::{prelude::*, JsCast};

    use super::LinkCallbacks;

    fn merge_link() -> Option<JsValue> {
        let window: JsValue = web_sys::window()?.into();
        let ml = Reflect::get(&window, &"MergeLink".into()).ok()?;
        (!ml.is_undefined()).then_some(ml)
    }

    fn call(method: &str, arg: Option<&JsValue>) -> bool {
        let Some(ml) = merge_link() else { return false };
        let Some(f) = Reflect::get(&ml, &method.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return false;
        };
        match arg {
            Some(a) => f.call1(&ml, a).is_ok(),
            None => f.call0(&ml).is_ok(),
        }
    }

    /// Runs `then` once the Link script is loaded, adding the script to the page if needed.
    fn with_script(url: &str, then: impl FnOnce() + 'static) {
        if merge_link().is_some() {
            then();
            return;
        }
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let selector = format!("script[data-merge-link=\"{url}\"]");
        let script = match doc.query_selector(&selector).ok().flatten() {
            Some(existing) => existing,
            None => {
                let Ok(el) = doc.create_element("script") else {
                    return;
                };
                let _ = el.set_attribute("src", url);
                let _ = el.set_attribute("data-merge-link", url);
                if let Some(head) = doc.head() {
                    let _ = head.append_child(&el);
                }
                el
            }
        };
        let onload = Closure::once_into_js(then);
        let _ = script.add_event_listener_with_callback("load", onload.unchecked_ref());
    }

    pub fn initialize(script_url: &str, link_token: &str, callbacks: LinkCallbacks) {
        let token = link_token.to_string();
        with_script(script_url, move || {
            let LinkCallbacks {
                on_ready,
                on_success,
                on_exit,
            } = callbacks;
            let config = Object::new();
            let set = |k: &str, v: &JsValue| {
                let _ = Reflect::set(&config, &k.into(), v);
            };
            set("linkToken", &token.into());
            set("shouldSendTokenOnSuccessfulLink", &true.into());
            // Link keeps calling these until the next initialize; each session's closures live
            // as long as the page (a few bytes per Link session).
            let success = Closure::<dyn Fn(JsValue, JsValue)>::new(
                move |public_token: JsValue, _meta: JsValue| {
                    if let Some(t) = public_token.as_string() {
                        on_success(t);
                    }
                },
            );
            set("onSuccess", success.as_ref());
            success.forget();
            let exit = Closure::<dyn Fn()>::new(move || on_exit());
            set("onExit", exit.as_ref());
            exit.forget();
            let ready = Closure::<dyn Fn()>::new(move || on_ready());
            set("onReady", ready.as_ref());
            ready.forget();
            call("initialize", Some(&config.into()));
        });
    }

    pub fn open() -> bool {
        call("openLink", None)
    }
}

/// Prepares Link for `link_token`; `on_ready` fires when `open` may be called.
#[allow(unused_variables)]
pub fn initialize(script_url: &str, link_token: &str, callbacks: LinkCallbacks) {
    #[cfg(feature = "hydrate")]
    browser::initialize(script_url, link_token, callbacks);
}

/// Opens Link. Call it directly in a click handler. False when Link is not loaded.
pub fn open() -> bool {
    #[cfg(feature = "hydrate")]
    return browser::open();
    #[cfg(not(feature = "hydrate"))]
    false
}
