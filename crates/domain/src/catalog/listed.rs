//! What buyers see of a listed product: a snapshot taken when an operator
//! approves a review. Edits made after that live on the working copy until
//! their own review is approved, so the public version never changes under a
//! buyer's feet.

use super::{ChargingMode, Cooperation, ProductContent, ProductType, SkuSpec};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedSnapshot {
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub content: ProductContent,
    pub seller_id: String,
    pub seller_name: String,
    /// `/media/{id}` path of the logo, if any.
    pub logo_url: Option<String>,
    /// `/media/{id}` paths of the screenshots.
    pub images: Vec<String>,
    /// The SKUs on sale (active ones only).
    pub skus: Vec<ListedSku>,
}

crate::stored_as_json!(ListedSnapshot);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedSku {
    pub id: String,
    pub spec: SkuSpec,
}

/// The denormalised columns the public catalog filters, searches and sorts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchColumns {
    pub name: String,
    /// Lower-cased name, summary, description and tags, one per line.
    pub search_text: String,
    pub category_id: String,
    /// Lowest entry price over the SKUs (None when only pay-per-use).
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    /// Charging modes on sale, comma-wrapped: ",period,one_time,".
    pub modes: String,
}

impl ListedSnapshot {
    pub fn search_columns(&self) -> SearchColumns {
        let c = &self.content;
        let search_text =
            [c.name.as_str(), c.summary.as_str(), c.description.as_str(), &c.tags.join("\n")].join("\n").to_lowercase();
        let price_minor = self.skus.iter().filter_map(|s| super::entry_price_minor(&s.spec)).min();
        let currency = self.skus.first().map(|s| s.spec.currency.clone());
        let mut modes: Vec<ChargingMode> = Vec::new();
        for s in &self.skus {
            if !modes.contains(&s.spec.charging_mode) {
                modes.push(s.spec.charging_mode);
            }
        }
        let modes = format!(",{},", modes.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(","));
        SearchColumns {
            name: c.name.clone(),
            search_text,
            category_id: c.category_id.clone(),
            price_minor,
            currency,
            modes,
        }
    }
}

/// The pattern matching products that offer `mode` in `SearchColumns::modes`.
pub fn mode_pattern(mode: ChargingMode) -> String {
    format!("%,{},%", mode.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Prices, SkuSpec};

    #[test]
    fn search_columns_summarise_the_snapshot() {
        let sku = |code: &str, mode, prices: Prices| ListedSku {
            id: crate::ids::SkuId::new().into(),
            spec: SkuSpec {
                sku_code: code.into(),
                name: code.into(),
                charging_mode: mode,
                prices,
                currency: "CNY".into(),
                trial_days: None,
                metering: None,
                package: None,
                linear: None,
            },
        };
        let snap = ListedSnapshot {
            product_type: ProductType::Saas,
            cooperation: Cooperation::Joint,
            content: ProductContent {
                name: "云数据库 RDS".into(),
                version: "1".into(),
                category_id: "cat_db".into(),
                summary: "Managed SQL".into(),
                description: "Fully managed.".into(),
                usage_guide: String::new(),
                support_terms: String::new(),
                tags: vec!["MySQL".into()],
            },
            seller_id: "acc_1".into(),
            seller_name: "S".into(),
            logo_url: None,
            images: vec![],
            skus: vec![
                sku(
                    "m",
                    ChargingMode::Period,
                    Prices { month_minor: Some(500), year_minor: Some(5000), one_time_minor: None },
                ),
                sku("o", ChargingMode::OneTime, Prices { one_time_minor: Some(300), ..Prices::default() }),
            ],
        };
        let cols = snap.search_columns();
        assert!(cols.search_text.contains("云数据库") && cols.search_text.contains("mysql"));
        assert_eq!(cols.price_minor, Some(300));
        assert_eq!(cols.modes, ",period,one_time,");
        assert!(cols.modes.contains(&mode_pattern(ChargingMode::Period).replace('%', "")));
    }
}
