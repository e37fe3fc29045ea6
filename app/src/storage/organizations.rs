use super::{now_ms, Db, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub hris_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    hris_enabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<Row> for Organization {
    fn from(r: Row) -> Self {
        Organization {
            id: r.id,
            name: r.name,
            hris_enabled: r.hris_enabled != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Db {
    /// Creates the organization, or refreshes its name if it exists (names come from the host shell).
    pub async fn upsert_organization(&self, id: &str, name: &str) -> StoreResult<Organization> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO organizations (id, name, hris_enabled, created_at, updated_at)
             VALUES ($1, $2, 0, $3, $3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self
            .organization(id)
            .await?
            .expect("organization just written"))
    }

    pub async fn organization(&self, id: &str) -> StoreResult<Option<Organization>> {
        Ok(sqlx::query_as::<_, Row>(
            "SELECT id, name, hris_enabled, created_at, updated_at FROM organizations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(Into::into))
    }

    /// Turns the HRIS feature on or off; returns false when the organization does not exist.
    pub async fn set_hris_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE organizations SET hris_enabled = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(i64::from(enabled))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Db {
    /// Every organization, by name (for the service desk).
    pub async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        Ok(sqlx::query_as::<_, Row>(
            "SELECT id, name, hris_enabled, created_at, updated_at FROM organizations ORDER BY name, id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }
}
