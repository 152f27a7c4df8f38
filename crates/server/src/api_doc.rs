//! The OpenAPI document's frame; paths come from the handlers' annotations.

use serde_json::{Map, Value, json};
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
    // Schemas only a query parameter names (utoipa registers those reached
    // from bodies and responses only).
    components(schemas(
        mercato_domain::invoicing::InvoiceDocument,
        mercato_domain::channel::partners::PartnerStatementStatus
    )),
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
        (name = "settlement", description = "Settlement (结算): runs per billing period, sellers' statements with every settled line"),
        (name = "invoices", description = "Invoices (开票 / 退票): buyers request them for paid orders and return them (a credit note); the platform (joint-operation products) or the seller (general cooperation) issues them as numbered PDFs"),
        (name = "coupons", description = "Coupons (满减代金券): sellers issue batches of threshold coupons for products or SKUs on sale; buyers claim them and apply one when ordering"),
        (name = "private offers", description = "Private offers (商家优惠): a seller's own prices for one buyer on a joint-operation product, made directly or in answer to a partner's customer demand"),
        (name = "supervision", description = "Service supervision (服务监管): supervised deliveries of manual services, licenses without an interface and offline goods; requirements, delivery, acceptance, appeals, refunds"),
        (name = "partners", description = "Partners (客户服务商): onboarding and certification, customer bindings (one active partner per buyer), exclusive discounts (专属优惠) operators approve, customer demands sellers answer, the partner share, partner statements (paid once the partner's invoice is received) and performance (业绩)"),
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

/// The document as served and committed: the routes' document with the
/// rewrites no single annotation can express.
///
/// * A `#[serde(flatten)]` field becomes `allOf: [Inner, {outer fields}]`
///   in utoipa's output. When `Inner` is closed (`deny_unknown_fields`, so
///   `additionalProperties: false`) no object can satisfy both halves, so a
///   validator refuses every response. Each `allOf` of objects is merged
///   into one object with the union of the properties and of the required
///   names: what serde reads and writes for a flattened struct.
/// * The problems every operation of a kind can answer before its handler
///   runs (a JSON body's 400/413/415/422, a query's 422) are added where the
///   handler's annotation does not already describe that status.
pub fn finish(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut value = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    flatten_all_of(&mut value);
    add_common_problems(&mut value);
    serde_json::from_value(value).expect("the rewritten OpenAPI document deserializes")
}

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Merges every `allOf` whose members are all plain object schemas (inline
/// or by reference), components first so that nested flattening resolves.
fn flatten_all_of(doc: &mut Value) {
    loop {
        let components = doc.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
        let mut changed = false;
        if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
            for schema in schemas.values_mut() {
                changed |= merge_in(schema, &components);
            }
        }
        if !changed {
            break;
        }
    }
    let components = doc.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
    if let Some(paths) = doc.get_mut("paths") {
        merge_in(paths, &components);
    }
}

/// Rewrites the mergeable `allOf`s in `value` and below; true if any changed.
fn merge_in(value: &mut Value, components: &Value) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            if let Some(merged) = map.get("allOf").and_then(|all| merge_objects(all, components)) {
                map.remove("allOf");
                for (k, v) in merged {
                    map.entry(k).or_insert(v);
                }
                changed = true;
            } else if let Some(variants) = map.get("allOf").and_then(|all| distribute_one_of(all, components)) {
                map.remove("allOf");
                map.insert("oneOf".into(), Value::Array(variants));
                changed = true;
            }
            for child in map.values_mut() {
                changed |= merge_in(child, components);
            }
        }
        Value::Array(items) => {
            for child in items {
                changed |= merge_in(child, components);
            }
        }
        _ => {}
    }
    changed
}

/// The one object equivalent to `allOf: members`, when every member is a
/// plain object schema (no composition left in it).
fn merge_objects(members: &Value, components: &Value) -> Option<Map<String, Value>> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for member in members.as_array()? {
        let schema = match member.get("$ref").and_then(Value::as_str) {
            Some(r) => components.get(r.strip_prefix(SCHEMA_REF_PREFIX)?)?,
            None => member,
        };
        let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
        let composed = ["allOf", "oneOf", "anyOf", "$ref"].iter().any(|k| schema.get(*k).is_some());
        if !is_object || composed {
            return None;
        }
        for (name, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            properties.insert(name.clone(), property.clone());
        }
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
    }
    let mut merged = Map::new();
    merged.insert("type".into(), json!("object"));
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    merged.insert("properties".into(), Value::Object(properties));
    Some(merged)
}

/// A flattened field whose type is a `oneOf` of objects (a SKU, one shape
/// per charging mode) next to plain objects: `allOf: [oneOf: [A, B], C]`
/// is `oneOf: [A + C, B + C]`, each merged as [`merge_objects`] does.
fn distribute_one_of(members: &Value, components: &Value) -> Option<Vec<Value>> {
    let members = members.as_array()?;
    let resolve = |m: &Value| -> Option<Value> {
        match m.get("$ref").and_then(Value::as_str) {
            Some(r) => components.get(r.strip_prefix(SCHEMA_REF_PREFIX)?).cloned(),
            None => Some(m.clone()),
        }
    };
    // Only a flattened type (a reference): an inline `oneOf` next to a
    // closed object is a rule on that object and stays as written.
    let (at, variants) = members.iter().enumerate().find_map(|(i, m)| {
        m.get("$ref")?;
        let schema = resolve(m)?;
        schema.get("oneOf").and_then(Value::as_array).cloned().map(|v| (i, v))
    })?;
    variants
        .iter()
        .map(|variant| {
            let mut all: Vec<Value> = members.clone();
            all[at] = variant.clone();
            merge_objects(&Value::Array(all), components).map(Value::Object)
        })
        .collect()
}

/// A problem response of the server's problem schema.
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": format!("{SCHEMA_REF_PREFIX}Problem")}}}
    })
}

/// Adds the problems an operation can answer because of its shape (see
/// [`crate::extract`]): a JSON body (400 `malformed_json`/`unreadable_body`,
/// 413, 415, 422), an image body (400, 413, 415), query parameters (422).
/// The sellers' signed open API answers in its own envelope and keeps its
/// annotations as they are.
fn add_common_problems(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for (method, op) in item.iter_mut() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let signed = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|r| r.get("sdk_hmac").is_some()));
            let content_types: Vec<String> = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default();
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p.get("in").and_then(Value::as_str) == Some("query")));
            let mut common: Vec<(&str, &str)> = Vec::new();
            if signed {
                // Answered in the open API's envelope, as annotated.
            } else if content_types.iter().any(|c| c == "application/json") {
                common.extend([
                    ("400", "`malformed_json`: the body is not JSON; `unreadable_body`"),
                    ("413", "`payload_too_large`: the body is over the JSON body limit"),
                    ("415", "`unsupported_media_type`: the body is not sent as `application/json`"),
                    (
                        "422",
                        "`validation_failed`: a field is missing, unknown, of the wrong type or out of range; `errors` names each",
                    ),
                ]);
            } else if content_types.iter().any(|c| c.starts_with("image/")) {
                common.extend([
                    ("400", "`unreadable_body`: the body could not be read"),
                    ("413", "`payload_too_large`: the image is over the upload limit"),
                    ("415", "`unsupported_media_type`: not a PNG, JPEG, GIF or WebP image"),
                ]);
            }
            if has_query && !signed {
                common.push((
                    "422",
                    "`validation_failed`: a query parameter is invalid, empty or given more than once; `errors` names each",
                ));
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            for (status, description) in common {
                responses.entry(status).or_insert_with(|| problem(description));
            }
            // OpenAPI requires a description on every response.
            for (status, response) in responses.iter_mut() {
                if let Some(response) = response.as_object_mut()
                    && response.get("description").and_then(Value::as_str).is_none_or(str::is_empty)
                {
                    let reason = status.parse::<u16>().ok().and_then(|s| axum::http::StatusCode::from_u16(s).ok());
                    let reason = reason.and_then(|s| s.canonical_reason()).unwrap_or("Response");
                    response.insert("description".into(), json!(reason));
                }
            }
        }
    }
}
