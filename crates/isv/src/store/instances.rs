//! Instances: creation (idempotent per order line), status, expiry,
//! upgrades, release, and order notifications.

use super::{SellerStore, StoreError, StoreResult};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{self, Row};

/// Lifecycle state. Provisioning (async mode) is not a status: it is
/// `ready_at_ms` in the future, so it needs no background task to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    Active,
    Frozen,
    Released,
}

impl InstanceStatus {
    fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Active => "active",
            InstanceStatus::Frozen => "frozen",
            InstanceStatus::Released => "released",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "frozen" => InstanceStatus::Frozen,
            "released" => InstanceStatus::Released,
            _ => InstanceStatus::Active,
        }
    }
}

/// What the buyer gets to open their instance (queryInstance `appInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    pub front_end_url: String,
    pub admin_url: String,
    pub user_name: String,
    pub password: String,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub instance_id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub business_id: String,
    pub status: InstanceStatus,
    /// UTC `yyyyMMddHHmmss`, set by refreshInstance.
    pub expire_time: Option<String>,
    pub product_id: Option<String>,
    pub sku_code: Option<String>,
    pub test_flag: bool,
    pub app_info: AppInfo,
    /// appInfo is only shown once the clock reaches this (async provisioning).
    pub ready_at_ms: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Instance {
    pub fn is_ready(&self, now_ms: i64) -> bool {
        now_ms >= self.ready_at_ms
    }
}

/// A newInstance call, as the store needs it.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub order_id: String,
    pub order_line_id: String,
    pub business_id: String,
    pub test_flag: bool,
    pub ready_at_ms: i64,
}

/// refreshInstance scenes (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshScene {
    Renewal,
    TrialToFormal,
    UnsubscribeRenewalPeriod,
    RenewalChange,
}

impl RefreshScene {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RENEWAL" => RefreshScene::Renewal,
            "TRIAL_TO_FORMAL" => RefreshScene::TrialToFormal,
            "UNSUBSCRIBE_RENEWAL_PERIOD" => RefreshScene::UnsubscribeRenewalPeriod,
            "RENEWAL_CHANGE" => RefreshScene::RenewalChange,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RefreshScene::Renewal => "RENEWAL",
            RefreshScene::TrialToFormal => "TRIAL_TO_FORMAL",
            RefreshScene::UnsubscribeRenewalPeriod => "UNSUBSCRIBE_RENEWAL_PERIOD",
            RefreshScene::RenewalChange => "RENEWAL_CHANGE",
        }
    }
}

/// A refreshInstance call, as the store needs it.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub scene: RefreshScene,
    pub order_id: String,
    pub order_line_id: String,
    /// UTC `yyyyMMddHHmmss`; validated here.
    pub expire_time: String,
    /// The new product (RENEWAL_CHANGE); kept unchanged when `None`.
    pub product_id: Option<String>,
    pub sku_code: Option<String>,
}

/// Checks a `yyyyMMddHHmmss` UTC time: exactly 14 digits forming a real date.
pub fn valid_expire_time(s: &str) -> bool {
    s.len() == 14
        && s.bytes().all(|b| b.is_ascii_digit())
        && chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").is_ok()
}

const INSTANCE_COLUMNS: &str = "instance_id, order_id, order_line_id, business_id, status, expire_time, product_id, \
     sku_code, test_flag, front_end_url, admin_url, user_name, password, memo, ready_at_ms, created_at_ms, updated_at_ms";

fn instance_from_row(row: &SqliteRow) -> Result<Instance, sqlx::Error> {
    Ok(Instance {
        instance_id: row.try_get("instance_id")?,
        order_id: row.try_get("order_id")?,
        order_line_id: row.try_get("order_line_id")?,
        business_id: row.try_get("business_id")?,
        status: InstanceStatus::parse(&row.try_get::<String, _>("status")?),
        expire_time: row.try_get("expire_time")?,
        product_id: row.try_get("product_id")?,
        sku_code: row.try_get("sku_code")?,
        test_flag: row.try_get::<i64, _>("test_flag")? != 0,
        app_info: AppInfo {
            front_end_url: row.try_get("front_end_url")?,
            admin_url: row.try_get("admin_url")?,
            user_name: row.try_get("user_name")?,
            password: row.try_get("password")?,
            memo: row.try_get("memo")?,
        },
        ready_at_ms: row.try_get("ready_at_ms")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}

fn generate_password() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

/// Keeps generated URLs and user names path-safe whatever the instance id holds.
fn url_safe(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

impl SellerStore {
    /// Creates the instance for this order line, or returns the one created
    /// by an earlier call for the same (orderId, orderLineId). The instanceId
    /// is the businessId of the first call, as the spec recommends. The bool
    /// is true when this call created it.
    pub async fn create_instance(&self, new: &NewInstance) -> StoreResult<(Instance, bool)> {
        if new.order_id.is_empty() || new.order_line_id.is_empty() || new.business_id.is_empty() {
            return Err(StoreError::Invalid("orderId, orderLineId and businessId must not be empty".into()));
        }
        let now = self.now_ms();
        let slug = url_safe(&new.business_id);
        let inserted = sqlx::query(
            "INSERT INTO instances (instance_id, order_id, order_line_id, business_id, status, test_flag, \
             front_end_url, admin_url, user_name, password, memo, ready_at_ms, created_at_ms, updated_at_ms) \
             VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&new.business_id)
        .bind(&new.order_id)
        .bind(&new.order_line_id)
        .bind(&new.business_id)
        .bind(i64::from(new.test_flag))
        .bind(format!("https://app.example.com/i/{slug}"))
        .bind(format!("https://app.example.com/i/{slug}/admin"))
        .bind(format!("admin-{}", slug.chars().take(24).collect::<String>()))
        .bind(generate_password())
        .bind("Reference seller instance (Mercato)")
        .bind(new.ready_at_ms)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            self.record_order(&new.business_id, "new", &new.order_id, &new.order_line_id).await?;
        }
        sqlx::query(
            "INSERT INTO new_instance_calls (order_id, order_line_id, calls) VALUES (?, ?, 1) \
             ON CONFLICT (order_id, order_line_id) DO UPDATE SET calls = calls + 1",
        )
        .bind(&new.order_id)
        .bind(&new.order_line_id)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE order_id = ? AND order_line_id = ?"
        )))
        .bind(&new.order_id)
        .bind(&new.order_line_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok((instance_from_row(&row)?, inserted)),
            // The insert conflicted on instance_id (a businessId reused for a
            // different order line): a malformed call, not a new instance.
            None => Err(StoreError::Invalid(format!("businessId {} already used by another order", new.business_id))),
        }
    }

    /// The instance, released or not; `None` if it never existed.
    pub async fn instance(&self, instance_id: &str) -> StoreResult<Option<Instance>> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?")))
                .bind(instance_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(instance_from_row).transpose()?)
    }

    /// The instance if it exists and is not released; `NotFound` otherwise.
    pub async fn live_instance(&self, instance_id: &str) -> StoreResult<Instance> {
        match self.instance(instance_id).await? {
            Some(instance) if instance.status != InstanceStatus::Released => Ok(instance),
            _ => Err(StoreError::NotFound(instance_id.to_owned())),
        }
    }

    /// Freeze (`frozen = true`) or unfreeze. Repeating either succeeds.
    pub async fn set_frozen(&self, instance_id: &str, frozen: bool) -> StoreResult<Instance> {
        let status = if frozen { InstanceStatus::Frozen } else { InstanceStatus::Active };
        let changed = sqlx::query(
            "UPDATE instances SET status = ?, updated_at_ms = ? WHERE instance_id = ? AND status != 'released'",
        )
        .bind(status.as_str())
        .bind(self.now_ms())
        .bind(instance_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(instance_id.to_owned()));
        }
        self.live_instance(instance_id).await
    }

    /// Applies a refreshInstance: sets the expiry, and for RENEWAL_CHANGE the
    /// product. Status is left alone: unfreezing after a renewal is the
    /// marketplace's separate updateInstanceStatus call.
    pub async fn refresh(&self, instance_id: &str, refresh: &Refresh) -> StoreResult<Instance> {
        if !valid_expire_time(&refresh.expire_time) {
            return Err(StoreError::Invalid(format!("expireTime {:?} is not yyyyMMddHHmmss", refresh.expire_time)));
        }
        let changed = sqlx::query(
            "UPDATE instances SET expire_time = ?, product_id = COALESCE(?, product_id), \
             sku_code = COALESCE(?, sku_code), updated_at_ms = ? WHERE instance_id = ? AND status != 'released'",
        )
        .bind(&refresh.expire_time)
        .bind(&refresh.product_id)
        .bind(&refresh.sku_code)
        .bind(self.now_ms())
        .bind(instance_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(instance_id.to_owned()));
        }
        let kind = format!("refresh:{}", refresh.scene.as_str());
        self.record_order(instance_id, &kind, &refresh.order_id, &refresh.order_line_id).await?;
        self.live_instance(instance_id).await
    }

    /// Applies an upgradeInstance: same instance, the upgrade order recorded,
    /// and the new product if the caller knows it (from the order query).
    pub async fn upgrade(
        &self,
        instance_id: &str,
        order_id: &str,
        order_line_id: &str,
        product_id: Option<&str>,
        sku_code: Option<&str>,
    ) -> StoreResult<Instance> {
        let changed = sqlx::query(
            "UPDATE instances SET product_id = COALESCE(?, product_id), sku_code = COALESCE(?, sku_code), \
             updated_at_ms = ? WHERE instance_id = ? AND status != 'released'",
        )
        .bind(product_id)
        .bind(sku_code)
        .bind(self.now_ms())
        .bind(instance_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(instance_id.to_owned()));
        }
        self.record_order(instance_id, "upgrade", order_id, order_line_id).await?;
        self.live_instance(instance_id).await
    }

    /// Releases the instance. Releasing it again succeeds; an instance that
    /// never existed is `NotFound`.
    pub async fn release(
        &self,
        instance_id: &str,
        order_id: Option<&str>,
        order_line_id: Option<&str>,
    ) -> StoreResult<()> {
        let now = self.now_ms();
        sqlx::query(
            "UPDATE instances SET status = 'released', released_at_ms = ?, updated_at_ms = ? \
             WHERE instance_id = ? AND status != 'released'",
        )
        .bind(now)
        .bind(now)
        .bind(instance_id)
        .execute(&self.pool)
        .await?;
        if self.instance(instance_id).await?.is_none() {
            return Err(StoreError::NotFound(instance_id.to_owned()));
        }
        if let Some(order_id) = order_id.filter(|o| !o.is_empty()) {
            self.record_order(instance_id, "release", order_id, order_line_id.unwrap_or("")).await?;
        }
        Ok(())
    }

    /// Every instance ever created, released ones included, oldest first.
    pub async fn all_instances(&self) -> StoreResult<Vec<Instance>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY created_at_ms, rowid"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(instance_from_row).collect::<Result<_, sqlx::Error>>().map_err(StoreError::from)
    }

    /// How many newInstance calls each order line received, as
    /// ((orderId, orderLineId), calls).
    pub async fn new_instance_calls(&self) -> StoreResult<Vec<((String, String), i64)>> {
        let rows =
            sqlx::query("SELECT order_id, order_line_id, calls FROM new_instance_calls").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(((r.try_get("order_id")?, r.try_get("order_line_id")?), r.try_get("calls")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The orders recorded against an instance, oldest first, as (kind, orderId, orderLineId).
    pub async fn instance_orders(&self, instance_id: &str) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT kind, order_id, order_line_id FROM instance_orders WHERE instance_id = ? ORDER BY at_ms, rowid",
        )
        .bind(instance_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("order_id")?, r.try_get("order_line_id")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn record_order(
        &self,
        instance_id: &str,
        kind: &str,
        order_id: &str,
        order_line_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO instance_orders (instance_id, kind, order_id, order_line_id, at_ms) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(instance_id)
        .bind(kind)
        .bind(order_id)
        .bind(order_line_id)
        .bind(self.now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an orderNotify; returns how many times this order line has
    /// been notified (repeats are counted, not duplicated).
    pub async fn record_order_notify(&self, order_id: &str, order_line_id: &str, test_flag: bool) -> StoreResult<i64> {
        let now = self.now_ms();
        let row = sqlx::query(
            "INSERT INTO order_notifications (order_id, order_line_id, test_flag, times_received, first_at_ms, last_at_ms) \
             VALUES (?, ?, ?, 1, ?, ?) \
             ON CONFLICT (order_id, order_line_id) DO UPDATE SET times_received = times_received + 1, last_at_ms = excluded.last_at_ms \
             RETURNING times_received",
        )
        .bind(order_id)
        .bind(order_line_id)
        .bind(i64::from(test_flag))
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("times_received")?)
    }
}
