//! One file per page, named after the route it serves.

/// A page whose code is a separate wasm chunk, fetched the first time its route is visited
/// (`cargo leptos build --split`): for pages most users never open.
macro_rules! lazy_page {
    ($(#[$meta:meta])* $route:ident => $page:ident) => {
        $(#[$meta])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

pub mod desk;
pub mod hris;
pub mod not_found;
pub mod signin;
