//! `/signin`: the dev sign-in page (dev mode only). Pick a demo user.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::session::{demo_users, DevSignIn},
    components::{
        frame::Frame,
        notice::{action_error, ErrorNotice},
    },
    error::AppError,
    i18n::use_texts,
};

lazy_page!(
    /// A lazily loaded route: production has no sign-in page, so no one downloads its code there.
    SignInRoute => SignInPage
);

#[component]
pub fn SignInPage() -> impl IntoView {
    let t = use_texts();
    let users = Resource::new(|| (), |_| demo_users());
    let sign_in = ServerAction::<DevSignIn>::new();
    view! {
        <Title text=t.sign_in/>
        <Frame>
            <h1>{t.sign_in}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! {
                            <p>{t.dev_signin_intro}</p>
                            <ul class="demo-users">
                                {list.into_iter().map(|u| view! {
                                    <li class="card">
                                        <ActionForm action=sign_in>
                                            <input type="hidden" name="user_id" value=u.id/>
                                            <button type="submit" class="button">{(t.sign_in_as)(&u.name)}</button>
                                        </ActionForm>
                                        <span class="muted">{t.demo_role(u.role)}" · "{u.organization_name}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::NotFound) => view! {
                            <p>{t.signin_elsewhere}</p>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Suspense>
            {action_error(sign_in.value())}
        </Frame>
    }
}
