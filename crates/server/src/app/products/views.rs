//! Product requests and what product endpoints show.

use super::*;

// ---------------------------------------------------------------- requests

/// `POST /api/v1/seller/products`; its schema states the domain's content
/// and endpoint rules (`mercato_domain::catalog::content_schemas`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub name: String,
    pub version: String,
    pub category_id: String,
    pub summary: String,
    pub description: String,
    #[serde(default)]
    pub usage_guide: String,
    #[serde(default)]
    pub support_terms: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The seller's production interface (required before a SaaS product is submitted).
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
}

/// A partial update: only the fields present (and not null) change, and at
/// least one must. `type` and `cooperation` are fixed at creation.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[serde(default, rename = "type")]
    pub product_type: Option<serde_json::Value>,
    #[serde(default)]
    pub cooperation: Option<serde_json::Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub usage_guide: Option<String>,
    #[serde(default)]
    pub support_terms: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
}

const ENDPOINT_DESCRIPTION: &str = "The seller's production interface (required before a SaaS product is submitted).";

fn create_product_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, nullable, reference};
    let mut fields =
        Fields::new().required("type", reference("ProductType")).required("cooperation", reference("Cooperation"));
    for (name, schema, required) in content_schemas() {
        fields = if required { fields.required(name, schema) } else { fields.optional(name, schema) };
    }
    described(
        fields.optional("endpoint", described(nullable(reference("Endpoint")), ENDPOINT_DESCRIPTION)).closed(),
        "A new product draft.",
    )
}

fn update_product_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, null, nullable, reference};
    use serde_json::json;
    let fixed = |what: &str| described(null(), &format!("The {what} is fixed when the product is created: only null."));
    let mut fields = Fields::new().optional("type", fixed("type")).optional("cooperation", fixed("cooperation model"));
    // At least one field that changes something: present and not null.
    let mut changes = Vec::new();
    for (name, schema, _) in content_schemas() {
        changes.push(json!({"type": "object", "required": [name], "properties": {name: {"type": schema["type"]}}}));
        fields = fields.optional(name, nullable(schema));
    }
    changes.push(json!({"type": "object", "required": ["endpoint"], "properties": {"endpoint": {"type": "object"}}}));
    fields = fields.optional("endpoint", described(nullable(reference("Endpoint")), ENDPOINT_DESCRIPTION));
    json!({
        "allOf": [fields.closed(), {"anyOf": changes}],
        "description": "A partial update: only the fields present and not null change, and at least one must.",
    })
}

mercato_domain::schema_from_fragment!(CreateProduct, create_product_schema(), ProductType, Cooperation, Endpoint);
mercato_domain::schema_from_fragment!(UpdateProduct, update_product_schema(), Endpoint);

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    pub url: String,
    /// The access key is stored encrypted and never shown again.
    pub access_key_set: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: String,
    /// `/media/{id}`
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuView {
    pub id: String,
    pub product_id: String,
    /// pending until the review that introduced it is approved.
    pub status: SkuStatus,
    #[serde(flatten)]
    pub spec: SkuSpec,
    /// The lowest amount a buyer pays to start (None for pay-per-use).
    pub entry_price_minor: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// The seller's view of a product: the working copy, its lifecycle state
/// and, once approved, the listed version buyers see.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub status: ProductStatus,
    /// State of pending edits of a listed product.
    pub revision_state: RevisionState,
    pub name: String,
    pub version: String,
    pub category_id: String,
    pub summary: String,
    pub description: String,
    pub usage_guide: String,
    pub support_terms: String,
    pub tags: Vec<String>,
    pub endpoint: Option<EndpointView>,
    pub logo_url: Option<String>,
    pub images: Vec<ImageView>,
    pub skus: Vec<SkuView>,
    /// The approved version on sale (the listed snapshot), if any.
    #[schema(value_type = Option<Object>)]
    pub listed: Option<serde_json::Value>,
    pub listed_at: Option<DateTime<Utc>>,
    /// The review waiting for an operator, if any.
    pub pending_review_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub status: ProductStatus,
    pub revision_state: RevisionState,
    pub name: String,
    pub category_id: String,
    pub listed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A review as its seller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductReviewView {
    pub id: String,
    pub product_id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}
