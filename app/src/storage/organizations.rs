use super::{now_ms, one_row, Db, StoreResult, Tx};
use crate::model::OrganizationId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub hris_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: OrganizationId,
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
    pub async fn upsert_organization(
        &self,
        id: &OrganizationId,
        name: &str,
    ) -> StoreResult<Organization> {
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

    pub async fn organization(&self, id: &OrganizationId) -> StoreResult<Option<Organization>> {
        Ok(sqlx::query_as::<_, Row>(
            "SELECT id, name, hris_enabled, created_at, updated_at FROM organizations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(Into::into))
    }
}

impl Tx {
    /// Turns the HRIS feature on or off; `StoreError::Missing` when the organization does not exist.
    pub async fn set_hris_enabled(
        &mut self,
        id: &OrganizationId,
        enabled: bool,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE organizations SET hris_enabled = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(i64::from(enabled))
            .bind(now_ms())
            .bind(id)
            .execute(self.conn())
            .await?,
        )
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
