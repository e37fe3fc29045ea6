use leptos::prelude::*;

use crate::{
    api::session::{whoami, SignOut},
    components::localized::href,
    i18n::use_texts,
    model::Permission,
};

/// The standalone app's chrome: a top bar with the signed-in user, and the main landmark.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let t = use_texts();
    let viewer = Resource::new(|| (), |_| whoami());
    let sign_out = ServerAction::<SignOut>::new();
    let (hris_href, desk_href) = (href("/admin/integrations/hris"), href("/desk"));
    view! {
        <header class="topbar">
            <a class="brand" href=href("/")>{t.app_name}</a>
            <Transition fallback=|| ()>
                {move || {
                    let (hris_href, desk_href) = (hris_href.clone(), desk_href.clone());
                    Suspend::new(async move {
                    viewer.await.ok().flatten().map(|v| view! {
                        <nav aria-label=t.nav_main_label class="main-nav">
                            {v.can(Permission::ManageIntegrations).then(|| view! { <a href=hris_href>{t.nav_hris}</a> })}
                            {v.can(Permission::ServiceDesk).then(|| view! { <a href=desk_href>{t.nav_desk}</a> })}
                        </nav>
                        <div class="who">
                            <span class="who-name">{v.user_name}" · "{v.organization_name}</span>
                            <ActionForm action=sign_out>
                                <button type="submit" class="button button-quiet">{t.sign_out}</button>
                            </ActionForm>
                        </div>
                    })
                    })
                }}
            </Transition>
        </header>
        <main id="main" class="page">{children()}</main>
    }
}
