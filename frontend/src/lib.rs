//! The wasm entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: a lazily loaded route (`pages::lazy_page!`) loads its chunk before hydrating it.
    leptos::mount::hydrate_lazy(app::App);
}
