//! The wasm entry point: hydrates the server-rendered page.

/// The `performance.mark` set once the page is hydrated, i.e. answers clicks: a benchmark measures
/// navigation → interactive with `performance.getEntriesByName("hris:hydrated")`.
pub const HYDRATED_MARK: &str = "hris:hydrated";

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // As `leptos::mount::hydrate_lazy` (a lazily loaded route, `pages::lazy_page!`, loads its chunk
    // before hydrating it), then the mark once hydration is complete.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        if let Some(performance) = leptos::prelude::window().performance() {
            // A mark fails only on a name of the Navigation Timing API, which this is not.
            let _ = performance.mark(HYDRATED_MARK);
        }
    });
}
