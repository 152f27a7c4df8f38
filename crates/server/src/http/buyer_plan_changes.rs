//! Plan changes: upgrading a subscription mid-term and converting a trial
//! into a paid subscription (changes at renewal go through `/renew`).

use crate::app::subscriptions::plan_changes::{self, ConversionView, ConvertTrial, UpgradeSubscription, UpgradeView};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiJson;
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upgrade_subscription)).routes(routes!(convert_trial))
}

/// Upgrade an active paid period subscription to a dearer SKU (or quantity)
/// of the same product. The price difference per period x the time left
/// (whole periods plus the fraction of the current one, rounded up to the
/// minor unit) is paid from the wallet at once; the specification changes
/// at once and the expiry stays. The seller is told (upgradeInstance); if
/// it refuses, or does not confirm within 3 hours, the upgrade is refunded
/// and the previous specification restored. Equal or cheaper targets are
/// refused: change to a cheaper specification when renewing. Send an
/// `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/subscriptions/{id}/upgrade", tag = "orders", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = UpgradeSubscription,
    responses(
        (status = 200, body = UpgradeView),
        AuthProblems,
        (status = 402, description = "`insufficient_funds`: nothing changed", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "`not_offered`: the target SKU does not offer the upgrade (`sku_id` of another product, not a period SKU, not sold by the subscription's period; a quantity not among its choices; a difference above 10^12 minor units; `errors` names each field); `not_an_upgrade` (equal or cheaper per period), `change_in_progress`, `trial_subscription`, `subscription_frozen`, `not_provisioned`, `subscription_ended`, `not_upgradable`, `term_ended`, `not_on_sale`, `subscription_changed`, `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such subscription of the caller's, or `sku_id` names no SKU on sale (`errors` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: quantity out of 1-10^12; a bad `Idempotency-Key`; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn upgrade_subscription(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<UpgradeSubscription>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let done =
        once.run(&state, StatusCode::OK, async |tx| plan_changes::upgrade(&state, tx, &p, &id, req).await).await?;
    Ok(done.into_response())
}

/// Convert a trial (active, or frozen because it ended) into a paid
/// subscription of the same SKU, priced like a purchase and paid from the
/// wallet at once. The formal term starts now (unused trial days are
/// dropped); the seller is told (refreshInstance TRIAL_TO_FORMAL with the
/// new expiry, after updateInstanceStatus UNFREEZE if the trial had ended).
/// Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/subscriptions/{id}/convert", tag = "orders", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = ConvertTrial,
    responses(
        (status = 200, body = ConversionView),
        AuthProblems,
        (status = 402, description = "`insufficient_funds`: nothing changed", body = Problem, content_type = "application/problem+json"),
        NotFoundProblem,
        (status = 409, description = "`not_offered`: the trial's SKU does not offer the terms (a period it is not sold by, a quantity not among its choices, a total above 10^12 minor units; `errors` names each field); `not_a_trial`, `not_provisioned`, `subscription_ended`, `not_on_sale`, `subscription_changed`, `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: period_count out of range for the period, quantity out of 1-10^12; a bad `Idempotency-Key`; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn convert_trial(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<ConvertTrial>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let done =
        once.run(&state, StatusCode::OK, async |tx| plan_changes::convert(&state, tx, &p, &id, req).await).await?;
    Ok(done.into_response())
}
