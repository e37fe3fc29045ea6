//! Helpers of the sync's tests: run a connection's queued run to its end, and compare what Merge
//! (the sandbox) has with what the directory has.

use std::collections::BTreeMap;

use app::{
    auth::Identity,
    domain::sync::engine,
    model::ConnectionView,
    provider::{collect_pages, AccountToken, PageQuery},
    state::AppState,
    storage::{DirectoryQuery, SyncRunRecord},
};

/// Remote id -> (work e-mail, employment status, deleted in the HR system).
pub type Listing = BTreeMap<String, (Option<String>, Option<String>, bool)>;

/// The connection's queued or running run (there must be one).
pub async fn pending(state: &AppState, c: &ConnectionView) -> SyncRunRecord {
    state
        .db
        .pending_sync_run(&c.id)
        .await
        .unwrap()
        .expect("a queued run")
}

/// Executes the connection's queued run to its end, resuming as a worker would.
pub async fn run_pending(state: &AppState, c: &ConnectionView) -> SyncRunRecord {
    let run = pending(state, c).await;
    for _ in 0..10 {
        match engine::execute(state, &run.id).await {
            engine::Executed::Finished(_) => break,
            engine::Executed::RetryAfter(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    state.db.sync_run(&run.id).await.unwrap().unwrap()
}

/// The connection's account token, as the sync opens it.
pub async fn token(state: &AppState, who: &Identity, c: &ConnectionView) -> AccountToken {
    let record = state
        .db
        .connection(&who.org_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    AccountToken::new(
        state
            .keyring
            .open(record.account_token.as_ref().unwrap())
            .unwrap(),
    )
}

/// What Merge has now, read in full (deleted records included).
pub async fn at_merge(state: &AppState, token: &AccountToken) -> Listing {
    let q = PageQuery {
        page_size: Some(100),
        include_deleted_data: true,
        ..PageQuery::default()
    };
    let all = collect_pages(&q, |q| state.provider.employees(token, q))
        .await
        .unwrap();
    let n = all.len();
    let listing: Listing = all
        .into_iter()
        .map(|e| {
            (
                e.remote_id.clone().unwrap_or(e.id.clone()),
                (
                    e.work_email.clone(),
                    e.employment_status.map(|s| s.as_str().to_string()),
                    e.remote_was_deleted,
                ),
            )
        })
        .collect();
    assert_eq!(listing.len(), n, "the sandbox lists each employee once");
    listing
}

/// What the directory has, in the same shape; nobody may be in it twice.
pub async fn in_directory(state: &AppState, who: &Identity) -> Listing {
    let mut all = BTreeMap::new();
    let mut q = DirectoryQuery {
        limit: 500,
        include_inactive: true,
        ..DirectoryQuery::default()
    };
    loop {
        let page = state.db.employees_page(&who.org_id, &q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some((last.modified_at, last.id.to_string()));
        for e in page {
            let previous = all.insert(
                e.remote_id.clone(),
                (e.work_email, e.employment_status, e.remote_was_deleted == 1),
            );
            assert!(
                previous.is_none(),
                "{} is in the directory twice",
                e.remote_id
            );
        }
    }
    all
}

/// A direct Personio connection whose sandbox organization has `size` employees (frozen unless
/// `evolve`), linked through the Link dialog as a person would; not active yet.
pub async fn linked(
    env: &super::TestEnv,
    who: &Identity,
    size: usize,
    evolve: bool,
) -> app::model::ConnectionId {
    use app::domain::connections as conn;
    let session = conn::start_direct(&env.state, who, "personio", "Personio")
        .await
        .unwrap();
    let origin = env
        .state
        .db
        .connection(&who.org_id, &session.connection_id)
        .await
        .unwrap()
        .unwrap()
        .end_user_origin_id;
    env.control(
        reqwest::Method::PUT,
        &format!("/organizations/{origin}"),
        Some(serde_json::json!({ "employees": size, "evolve": evolve })),
    )
    .await;
    let public = env
        .complete_link(
            &session.link_token,
            serde_json::json!({ "integration": "personio" }),
        )
        .await;
    conn::finish_link(&env.state, who, &session.connection_id, &public)
        .await
        .unwrap();
    session.connection_id
}

/// The connection's linked account at the sandbox.
pub async fn account_of(
    state: &AppState,
    who: &Identity,
    id: &app::model::ConnectionId,
) -> app::model::LinkedAccountId {
    state
        .db
        .connection(&who.org_id, id)
        .await
        .unwrap()
        .unwrap()
        .linked_account_id
        .unwrap()
}
