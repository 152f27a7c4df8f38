//! The OpenAPI document's frame; paths come from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mercato API",
        description = "Mercato, an open-source cloud software marketplace. Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&Security),
    tags(
        (name = "accounts", description = "Sign-up, identity and API keys"),
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "seller onboarding", description = "Seller onboarding (入驻), business certification (商业信息认证) and the seller agreement"),
        (name = "operator onboarding", description = "Operators review onboarding and certification applications"),
        (name = "seller catalog", description = "Sellers create products and SKUs and submit them for review"),
        (name = "operator reviews", description = "Operators review products and their revisions; edit categories"),
        (name = "wallet", description = "Buyers' wallets"),
        (name = "operator finance", description = "Wallet credits, the double-entry ledger, commission rates"),
        (name = "orders", description = "Buyers' orders and subscriptions; sellers' order views"),
        (name = "usage", description = "Pay-per-use: buyers' usage, charges and quota packages; sellers' per-instance usage and error records"),
        (name = "test clock", description = "Only with `serve --test-clock`: move the marketplace's time"),
        (name = "catalog", description = "The public catalog: categories, search, product detail (no authentication)"),
        (name = "open api", description = "Sellers' open API (KooGallery paths): signed with AK/SK (SDK-HMAC-SHA256), answered as `{\"error_code\": \"MKT.xxxx\", \"error_msg\": ...}`"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("mk_…").build()),
        );
        components.add_security_scheme(
            "sdk_hmac",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "Authorization",
                    "Sellers' open API: `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>` with a signed `X-Sdk-Date`",
                ),
            )),
        );
    }
}
