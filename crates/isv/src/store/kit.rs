//! Kit sync storage (joint-operation SaaS): tenants, applications, users,
//! organisations. Every call is idempotent: adds and modifies are upserts,
//! deletes of absent rows succeed (spec §4).

use super::{SellerStore, StoreError, StoreResult};
use sea_orm::sqlx::{self, Row};

/// The `flag` of a kit call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncFlag {
    Delete,
    Add,
    Modify,
    /// authSync only: the user's authorisation is withdrawn; the row is kept.
    Revoke,
}

impl SyncFlag {
    /// Maps the wire value; 3 only when `allow_revoke` (authSync).
    pub fn from_wire(flag: i64, allow_revoke: bool) -> Option<Self> {
        match flag {
            0 => Some(SyncFlag::Delete),
            1 => Some(SyncFlag::Add),
            2 => Some(SyncFlag::Modify),
            3 if allow_revoke => Some(SyncFlag::Revoke),
            _ => None,
        }
    }
}

/// Which instance and tenant a kit record belongs to (the common fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitScope {
    pub instance_id: String,
    pub tenant_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub tenant_id: String,
    pub order_id: String,
    pub tenant_code: String,
    pub name: String,
    pub domain_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub app_id: String,
    pub client_id: String,
    /// As received (RSA-OAEP ciphertext); the reference seller does not decrypt it.
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_name: String,
    pub name: String,
    pub org_code: String,
    pub role: String,
    pub revoked: bool,
    /// The user object as received, JSON.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub org_code: String,
    pub org_name: String,
    pub parent_code: String,
}

impl SellerStore {
    pub async fn sync_tenant(&self, scope: &KitScope, tenant: &Tenant, flag: SyncFlag) -> StoreResult<()> {
        match flag {
            SyncFlag::Delete => {
                sqlx::query("DELETE FROM kit_tenants WHERE instance_id = ? AND tenant_id = ?")
                    .bind(&scope.instance_id)
                    .bind(&scope.tenant_id)
                    .execute(&self.pool)
                    .await?;
            }
            SyncFlag::Add | SyncFlag::Modify => {
                sqlx::query(
                    "INSERT INTO kit_tenants (instance_id, tenant_id, order_id, tenant_code, name, domain_name) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, tenant_id) DO UPDATE SET \
                     order_id = excluded.order_id, tenant_code = excluded.tenant_code, name = excluded.name, \
                     domain_name = excluded.domain_name",
                )
                .bind(&scope.instance_id)
                .bind(&scope.tenant_id)
                .bind(&tenant.order_id)
                .bind(&tenant.tenant_code)
                .bind(&tenant.name)
                .bind(&tenant.domain_name)
                .execute(&self.pool)
                .await?;
            }
            SyncFlag::Revoke => return Err(StoreError::Invalid("flag 3 is only for authSync".into())),
        }
        Ok(())
    }

    pub async fn tenants(&self, instance_id: &str) -> StoreResult<Vec<Tenant>> {
        let rows = sqlx::query(
            "SELECT tenant_id, order_id, tenant_code, name, domain_name FROM kit_tenants \
             WHERE instance_id = ? ORDER BY tenant_id",
        )
        .bind(instance_id)
        .fetch_all(&self.pool)
        .await?;
        let tenants = rows
            .iter()
            .map(|r| {
                Ok(Tenant {
                    tenant_id: r.try_get("tenant_id")?,
                    order_id: r.try_get("order_id")?,
                    tenant_code: r.try_get("tenant_code")?,
                    name: r.try_get("name")?,
                    domain_name: r.try_get("domain_name")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(tenants)
    }

    pub async fn sync_application(&self, scope: &KitScope, app: &Application, flag: SyncFlag) -> StoreResult<()> {
        match flag {
            SyncFlag::Delete => {
                sqlx::query("DELETE FROM kit_applications WHERE instance_id = ? AND tenant_id = ? AND app_id = ?")
                    .bind(&scope.instance_id)
                    .bind(&scope.tenant_id)
                    .bind(&app.app_id)
                    .execute(&self.pool)
                    .await?;
            }
            SyncFlag::Add | SyncFlag::Modify => {
                sqlx::query(
                    "INSERT INTO kit_applications (instance_id, tenant_id, app_id, client_id, client_secret) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance_id, tenant_id, app_id) DO UPDATE SET \
                     client_id = excluded.client_id, client_secret = excluded.client_secret",
                )
                .bind(&scope.instance_id)
                .bind(&scope.tenant_id)
                .bind(&app.app_id)
                .bind(&app.client_id)
                .bind(&app.client_secret)
                .execute(&self.pool)
                .await?;
            }
            SyncFlag::Revoke => return Err(StoreError::Invalid("flag 3 is only for authSync".into())),
        }
        Ok(())
    }

    pub async fn applications(&self, scope: &KitScope) -> StoreResult<Vec<Application>> {
        let rows = sqlx::query(
            "SELECT app_id, client_id, client_secret FROM kit_applications \
             WHERE instance_id = ? AND tenant_id = ? ORDER BY app_id",
        )
        .bind(&scope.instance_id)
        .bind(&scope.tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let apps = rows
            .iter()
            .map(|r| {
                Ok(Application {
                    app_id: r.try_get("app_id")?,
                    client_id: r.try_get("client_id")?,
                    client_secret: r.try_get("client_secret")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(apps)
    }

    /// Applies one authSync: every user in the list gets the same flag.
    /// All or nothing, in one transaction.
    pub async fn sync_users(&self, scope: &KitScope, app_id: &str, users: &[User], flag: SyncFlag) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for user in users {
            match flag {
                SyncFlag::Delete => {
                    sqlx::query(
                        "DELETE FROM kit_users WHERE instance_id = ? AND tenant_id = ? AND app_id = ? AND user_name = ?",
                    )
                    .bind(&scope.instance_id)
                    .bind(&scope.tenant_id)
                    .bind(app_id)
                    .bind(&user.user_name)
                    .execute(&mut *tx)
                    .await?;
                }
                SyncFlag::Add | SyncFlag::Modify | SyncFlag::Revoke => {
                    let revoked = i64::from(flag == SyncFlag::Revoke);
                    sqlx::query(
                        "INSERT INTO kit_users (instance_id, tenant_id, app_id, user_name, name, org_code, role, revoked, data) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, tenant_id, app_id, user_name) \
                         DO UPDATE SET name = excluded.name, org_code = excluded.org_code, role = excluded.role, \
                         revoked = excluded.revoked, data = excluded.data",
                    )
                    .bind(&scope.instance_id)
                    .bind(&scope.tenant_id)
                    .bind(app_id)
                    .bind(&user.user_name)
                    .bind(&user.name)
                    .bind(&user.org_code)
                    .bind(&user.role)
                    .bind(revoked)
                    .bind(&user.data)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn users(&self, scope: &KitScope, app_id: &str) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT user_name, name, org_code, role, revoked, data FROM kit_users \
             WHERE instance_id = ? AND tenant_id = ? AND app_id = ? ORDER BY user_name",
        )
        .bind(&scope.instance_id)
        .bind(&scope.tenant_id)
        .bind(app_id)
        .fetch_all(&self.pool)
        .await?;
        let users = rows
            .iter()
            .map(|r| {
                Ok(User {
                    user_name: r.try_get("user_name")?,
                    name: r.try_get("name")?,
                    org_code: r.try_get("org_code")?,
                    role: r.try_get("role")?,
                    revoked: r.try_get::<i64, _>("revoked")? != 0,
                    data: r.try_get("data")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(users)
    }

    pub async fn sync_org(&self, scope: &KitScope, org: &Org, flag: SyncFlag) -> StoreResult<()> {
        match flag {
            SyncFlag::Delete => {
                sqlx::query("DELETE FROM kit_orgs WHERE instance_id = ? AND tenant_id = ? AND org_code = ?")
                    .bind(&scope.instance_id)
                    .bind(&scope.tenant_id)
                    .bind(&org.org_code)
                    .execute(&self.pool)
                    .await?;
            }
            SyncFlag::Add | SyncFlag::Modify => {
                upsert_org(&self.pool, scope, org).await?;
            }
            SyncFlag::Revoke => return Err(StoreError::Invalid("flag 3 is only for authSync".into())),
        }
        Ok(())
    }

    /// allOrgSync: the list is the whole tree, so it replaces what was there.
    pub async fn replace_orgs(&self, scope: &KitScope, orgs: &[Org]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM kit_orgs WHERE instance_id = ? AND tenant_id = ?")
            .bind(&scope.instance_id)
            .bind(&scope.tenant_id)
            .execute(&mut *tx)
            .await?;
        for org in orgs {
            upsert_org(&mut *tx, scope, org).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn orgs(&self, scope: &KitScope) -> StoreResult<Vec<Org>> {
        let rows = sqlx::query(
            "SELECT org_code, org_name, parent_code FROM kit_orgs WHERE instance_id = ? AND tenant_id = ? ORDER BY org_code",
        )
        .bind(&scope.instance_id)
        .bind(&scope.tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let orgs = rows
            .iter()
            .map(|r| {
                Ok(Org {
                    org_code: r.try_get("org_code")?,
                    org_name: r.try_get("org_name")?,
                    parent_code: r.try_get("parent_code")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(orgs)
    }
}

async fn upsert_org<'e, E>(executor: E, scope: &KitScope, org: &Org) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO kit_orgs (instance_id, tenant_id, org_code, org_name, parent_code) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (instance_id, tenant_id, org_code) DO UPDATE SET org_name = excluded.org_name, \
         parent_code = excluded.parent_code",
    )
    .bind(&scope.instance_id)
    .bind(&scope.tenant_id)
    .bind(&org.org_code)
    .bind(&org.org_name)
    .bind(&org.parent_code)
    .execute(executor)
    .await?;
    Ok(())
}
