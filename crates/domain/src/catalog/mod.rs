//! The catalog: product kinds, the listing lifecycle with its review, and the
//! rules on product content and SKUs.

mod debug_run;
mod lifecycle;
mod listed;
mod media;
mod product;
mod review;
mod search;
mod sku;

pub use debug_run::{DebugCaseSet, DebugRunStatus};
pub use lifecycle::{Lifecycle, LifecycleError, ProductAction, ProductStatus, RevisionState};
pub use listed::{ListedSku, ListedSnapshot, SearchColumns, mode_pattern};
pub use media::{IMAGES_MAX, ImageType};
pub use product::{
    Cooperation, ENDPOINT_URL_PATTERN, Endpoint, ProductContent, ProductType, check_endpoint, check_product,
    check_tags, content_schemas, endpoint_schema, normalize_tags,
};
pub use review::{REASON_MAX, ReviewSku, ReviewSnapshot, media_url};
pub use search::{CatalogCursor, SCORE_NAME, SCORE_NAME_PREFIX, SCORE_TEXT, SortKey, filter_fingerprint, search_terms};
pub use sku::{
    Billing, ChargingMode, LINEAR_MAX, Linear, Metering, Package, Prices, QUANTITY_MAX, SkuSpec, UNIT_PRICE_MAX,
    UNIT_PRICE_SCALE, check_sku, check_sku_currency, entry_price_minor,
};

string_enum!(
    /// A review's outcome so far.
    ReviewStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

string_enum!(
    /// What a review is about: a product's first listing, or an edit of a
    /// product that is already on sale.
    ReviewKind {
        Listing => "listing",
        Revision => "revision",
    }
);

string_enum!(
    /// A SKU is pending until the review that introduced it is approved.
    SkuStatus {
        Pending => "pending",
        Active => "active",
        Retired => "retired",
    }
);

string_enum!(
    /// Orderings of the public catalog.
    CatalogSort {
        Relevance => "relevance",
        Newest => "newest",
        PriceAsc => "price_asc",
        PriceDesc => "price_desc",
    }
);
