//! What an operator reviews: a frozen copy of the product's working version
//! at the moment of submission, and how an approved one becomes the listed
//! snapshot buyers see.

use super::{Cooperation, ListedSku, ListedSnapshot, ProductContent, ProductType, SkuSpec, SkuStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSnapshot {
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub content: ProductContent,
    /// Media id of the logo, if any.
    pub logo_media_id: Option<String>,
    /// Media ids of the screenshots, in display order.
    pub image_media_ids: Vec<String>,
    /// The SKUs on offer after approval (pending ones become active).
    pub skus: Vec<ReviewSku>,
    /// Where the seller's server answers (the access key is never copied).
    pub endpoint_url: Option<String>,
}

crate::stored_as_json!(ReviewSnapshot);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSku {
    pub id: String,
    /// The SKU's status when the review was submitted.
    pub status: SkuStatus,
    pub spec: SkuSpec,
}

/// Public path of an uploaded file.
pub fn media_url(media_id: &str) -> String {
    format!("/media/{media_id}")
}

impl ReviewSnapshot {
    /// The listed snapshot an approval of this review publishes.
    pub fn to_listed(&self, seller_id: &str, seller_name: &str) -> ListedSnapshot {
        ListedSnapshot {
            product_type: self.product_type,
            cooperation: self.cooperation,
            content: self.content.clone(),
            seller_id: seller_id.to_string(),
            seller_name: seller_name.to_string(),
            logo_url: self.logo_media_id.as_deref().map(media_url),
            images: self.image_media_ids.iter().map(|m| media_url(m)).collect(),
            skus: self
                .skus
                .iter()
                .filter(|s| s.status != SkuStatus::Retired)
                .map(|s| ListedSku { id: s.id.clone(), spec: s.spec.clone() })
                .collect(),
        }
    }

    /// Ids of the SKUs the approval activates.
    pub fn pending_sku_ids(&self) -> Vec<String> {
        self.skus.iter().filter(|s| s.status == SkuStatus::Pending).map(|s| s.id.clone()).collect()
    }
}

/// Reasons given with a rejection: 1 to 500 characters.
pub const REASON_MAX: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ChargingMode, Prices};

    #[test]
    fn approval_publishes_media_urls_and_live_skus() {
        let spec = SkuSpec {
            sku_code: "a".into(),
            name: "A".into(),
            charging_mode: ChargingMode::OneTime,
            prices: Prices { one_time_minor: Some(100), ..Prices::default() },
            currency: "CNY".into(),
            trial_days: None,
            metering: None,
            package: None,
            linear: None,
        };
        let snap = ReviewSnapshot {
            product_type: ProductType::License,
            cooperation: Cooperation::General,
            content: ProductContent {
                name: "n".into(),
                version: "1".into(),
                category_id: "cat_x".into(),
                summary: "s".into(),
                description: "d".into(),
                usage_guide: String::new(),
                support_terms: String::new(),
                tags: vec![],
            },
            logo_media_id: Some("med_1".into()),
            image_media_ids: vec!["med_2".into()],
            skus: vec![
                ReviewSku { id: "sku_1".into(), status: SkuStatus::Active, spec: spec.clone() },
                ReviewSku { id: "sku_2".into(), status: SkuStatus::Pending, spec: spec.clone() },
                ReviewSku { id: "sku_3".into(), status: SkuStatus::Retired, spec },
            ],
            endpoint_url: None,
        };
        let listed = snap.to_listed("acc_1", "Seller");
        assert_eq!(listed.logo_url.as_deref(), Some("/media/med_1"));
        assert_eq!(listed.images, ["/media/med_2"]);
        assert_eq!(listed.skus.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["sku_1", "sku_2"]);
        assert_eq!(snap.pending_sku_ids(), ["sku_2"]);
    }
}
