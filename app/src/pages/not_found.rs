use leptos::prelude::*;
use leptos_meta::Title;

use crate::{components::frame::Frame, i18n::use_texts};

#[component]
pub fn NotFound() -> impl IntoView {
    // Set before anything suspends, so that the status goes out with the headers.
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = use_texts();
    view! {
        <Title text=t.not_found_title/>
        <Frame>
            <h1>{t.page_not_found}</h1>
            <p><a href=crate::components::localized::href("/admin/integrations/hris")>{t.go_to_hris}</a></p>
        </Frame>
    }
}
