//! License codes (License products): one code per order line. A repeated
//! request returns the code created first, never a second one, as the
//! KooGallery guide requires of sellers.

use super::{SellerStore, StoreError, StoreResult};
use rand::Rng;
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{self, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub order_id: String,
    pub order_line_id: String,
    pub instance_id: String,
    pub license_code: String,
    /// `active`, `FREEZE` / `UNFREEZE` as set by updateLicenseCodeStatus, or `released`.
    pub status: String,
    pub expire_time: Option<String>,
    /// The last request body, JSON, for inspection.
    pub data: String,
}

/// A getLicenseAsync request: issue the license of one order line.
#[derive(Debug, Clone)]
pub struct LicenseRequest {
    pub order_id: String,
    pub order_line_id: String,
    /// The license's instanceId: the businessId of the first request.
    pub instance_id: String,
    pub expire_time: Option<String>,
    pub data: String,
}

fn license_from_row(row: &SqliteRow) -> Result<License, sqlx::Error> {
    Ok(License {
        order_id: row.try_get("order_id")?,
        order_line_id: row.try_get("order_line_id")?,
        instance_id: row.try_get("instance_id")?,
        license_code: row.try_get("license_code")?,
        status: row.try_get("status")?,
        expire_time: row.try_get("expire_time")?,
        data: row.try_get("data")?,
    })
}

/// A readable code in the style most license servers hand out: 5 groups of 5.
fn generate_license_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let groups: Vec<String> =
        (0..5).map(|_| (0..5).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()).collect();
    groups.join("-")
}

const LICENSE_COLUMNS: &str = "SELECT order_id, order_line_id, instance_id, license_code, status, expire_time, data \
     FROM license_codes";

impl SellerStore {
    /// Issues the license of an order line (instanceId = the first call's
    /// businessId), or returns the one issued before: same code every time.
    pub async fn issue_license(&self, req: &LicenseRequest) -> StoreResult<(License, bool)> {
        if req.order_id.is_empty() || req.order_line_id.is_empty() || req.instance_id.is_empty() {
            return Err(StoreError::Invalid("orderId, orderLineId and businessId must not be empty".into()));
        }
        if let Some(expire) = &req.expire_time
            && !super::instances::valid_expire_time(expire)
        {
            return Err(StoreError::Invalid(format!("expireTime {expire:?} is not yyyyMMddHHmmss")));
        }
        let now = self.now_ms();
        let inserted = sqlx::query(
            "INSERT INTO license_codes (order_id, order_line_id, instance_id, license_code, status, expire_time, data, \
             created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&req.order_id)
        .bind(&req.order_line_id)
        .bind(&req.instance_id)
        .bind(generate_license_code())
        .bind(&req.expire_time)
        .bind(&req.data)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("{LICENSE_COLUMNS} WHERE order_id = ? AND order_line_id = ?")))
                .bind(&req.order_id)
                .bind(&req.order_line_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok((license_from_row(&row)?, inserted)),
            None => Err(StoreError::Invalid(format!("businessId {} already used by another order", req.instance_id))),
        }
    }

    /// The license with this instanceId, released or not.
    pub async fn license(&self, instance_id: &str) -> StoreResult<Option<License>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{LICENSE_COLUMNS} WHERE instance_id = ?")))
            .bind(instance_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(license_from_row).transpose()?)
    }

    /// refreshLicenseCode: a new expiry. `NotFound` if unknown or released.
    pub async fn refresh_license(&self, instance_id: &str, expire_time: &str) -> StoreResult<License> {
        if !super::instances::valid_expire_time(expire_time) {
            return Err(StoreError::Invalid(format!("expireTime {expire_time:?} is not yyyyMMddHHmmss")));
        }
        self.update_live_license(instance_id, "expire_time", expire_time).await
    }

    /// updateLicenseCodeStatus: `FREEZE` / `UNFREEZE` as received. Repeats succeed.
    pub async fn set_license_status(&self, instance_id: &str, status: &str) -> StoreResult<License> {
        self.update_live_license(instance_id, "status", status).await
    }

    async fn update_live_license(&self, instance_id: &str, column: &str, value: &str) -> StoreResult<License> {
        let sql = match column {
            "status" => {
                "UPDATE license_codes SET status = ?, updated_at_ms = ? WHERE instance_id = ? AND status != 'released'"
            }
            _ => {
                "UPDATE license_codes SET expire_time = ?, updated_at_ms = ? WHERE instance_id = ? AND status != 'released'"
            }
        };
        let changed = sqlx::query(sql)
            .bind(value)
            .bind(self.now_ms())
            .bind(instance_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(instance_id.to_owned()));
        }
        self.license(instance_id).await?.ok_or_else(|| StoreError::NotFound(instance_id.to_owned()))
    }

    /// releaseLicenseCode: again succeeds; unknown is `NotFound`.
    pub async fn release_license(&self, instance_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE license_codes SET status = 'released', updated_at_ms = ? WHERE instance_id = ?")
            .bind(self.now_ms())
            .bind(instance_id)
            .execute(&self.pool)
            .await?;
        match self.license(instance_id).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(instance_id.to_owned())),
        }
    }
}
