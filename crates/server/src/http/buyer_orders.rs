//! Buying: placing, paying and cancelling orders; the buyer's orders and
//! subscriptions ("my purchased services").

use crate::app::orders::{self, CreateOrder, OrderView, SubscriptionView, UpdateSubscription};
use crate::app::page::Page;
use crate::app::subscriptions::lifecycle::{self, RenewSubscription};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::accounts::PageParams;
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(pay_order))
        .routes(routes!(cancel_order))
        .routes(routes!(list_subscriptions))
        .routes(routes!(get_subscription, update_subscription))
        .routes(routes!(renew_subscription))
}

/// Place an order for one SKU. The price is computed on the server: period
/// SKUs cost the month or year price x `period_count` (months 1-11, years
/// 1-5, default 1) x `quantity`; one-time SKUs one_time_minor x `quantity`;
/// packages their package price; trials (once per buyer and product) and
/// pay-per-use SKUs nothing now. A private offer or an exclusive discount,
/// and a coupon, may lower the price (the line lists each step); both are
/// taken by this order. Send an `Idempotency-Key` header to make retries
/// safe.
#[utoipa::path(post, path = "/api/v1/buyer/orders", tag = "orders", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = CreateOrder,
    responses(
        (status = 201, body = OrderView),
        AuthProblems,
        (status = 404, description = "no such SKU on sale, or no offer, exclusive discount or coupon of yours with that id (`errors` names `sku_id`, `offer_id`, `exclusive_discount_id` or `coupon_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_offered`: the SKU does not offer what was asked (a period it is not sold by, a period for a SKU not sold by period, no period for one that is, a trial it has none of, a quantity that is not one of its choices, a total above 10^12 minor units; `errors` names each field); `not_on_sale` (delisted product or retired SKU), `trial_used`, `idempotency_key_in_use`. Deals (docs/channel.md): `offer_used`, `offer_withdrawn`, `offer_not_started`, `offer_expired`, `offer_not_applicable`, `offer_terms`, `not_joint_operation`, `discount_not_approved`, `discount_not_started`, `discount_expired`, `discount_not_applicable`, `not_bound`, `discount_unfunded`, `coupon_used`, `coupon_not_started`, `coupon_expired`, `coupon_not_applicable`, `coupon_below_threshold`, `coupon_currency`, `deal_not_applicable` (a trial or pay-per-use SKU), `bad_offer_price`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming the field, for what no SKU accepts (as the schema states: period_count out of range or without period, a trial with period terms, auto_renew without period); `idempotency_key_reused`: the key was used with another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_order(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<CreateOrder>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let prepared = match orders::prepare(&state, &p, &req).await {
        Ok(prepared) => prepared,
        // A retry of an order that took its offer or coupon: its answer.
        Err(e) => return Ok(once.replayed(&state).await?.ok_or(e)?.into_response()),
    };
    let created =
        once.run(&state, StatusCode::CREATED, async |tx| orders::place(&state, tx, &p, prepared).await).await?;
    Ok(created.into_response())
}

/// The calling buyer's orders, newest first.
#[utoipa::path(get, path = "/api/v1/buyer/orders", operation_id = "list_buyer_orders", tag = "orders", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<OrderView>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_orders(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<OrderView>>> {
    Ok(Json(orders::list(&state, &p, q.paging()?).await?))
}

/// One of the calling buyer's orders.
#[utoipa::path(get, path = "/api/v1/buyer/orders/{id}", operation_id = "get_buyer_order", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path, description = "order id")),
    responses(
        (status = 200, body = OrderView),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn get_order(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(orders::get(&state, &p, &id).await?))
}

/// Pay a pending order from the wallet: the money moves, one subscription
/// per line is created (`provisioning`) and delivery by the seller starts.
/// Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/orders/{id}/pay", tag = "orders", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "order id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    responses(
        (status = 200, body = OrderView),
        AuthProblems,
        (status = 402, description = "`insufficient_funds`: nothing changed", body = Problem, content_type = "application/problem+json"),
        NotFoundProblem,
        (status = 409, description = "`already_paid`, `order_cancelled`, `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad `Idempotency-Key`, or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn pay_order(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &())?;
    Ok(once.run(&state, StatusCode::OK, async |tx| orders::pay(&state, tx, &p, &id).await).await?.into_response())
}

/// Cancel an unpaid order (a trial it took is given back).
#[utoipa::path(post, path = "/api/v1/buyer/orders/{id}/cancel", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path, description = "order id")),
    responses(
        (status = 200, body = OrderView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`already_paid` or `order_cancelled`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn cancel_order(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(orders::cancel(&state, &p, &id).await?))
}

/// The calling buyer's purchased services, newest first.
#[utoipa::path(get, path = "/api/v1/buyer/subscriptions", tag = "orders", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<SubscriptionView>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_subscriptions(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SubscriptionView>>> {
    Ok(Json(orders::subscriptions(&state, &p, q.paging()?).await?))
}

/// One of the calling buyer's subscriptions.
#[utoipa::path(get, path = "/api/v1/buyer/subscriptions/{id}", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path, description = "subscription id")),
    responses(
        (status = 200, body = SubscriptionView),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn get_subscription(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SubscriptionView>> {
    Ok(Json(orders::subscription(&state, &p, &id).await?))
}

/// Turn auto-renewal on or off (paid period subscriptions only).
#[utoipa::path(patch, path = "/api/v1/buyer/subscriptions/{id}", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path, description = "subscription id")),
    request_body = UpdateSubscription,
    responses(
        (status = 200, body = SubscriptionView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`subscription_ended`: released or failed; `not_renewable`: a trial, one-time or pay-per-use subscription", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_subscription(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateSubscription>,
) -> ApiResult<Json<SubscriptionView>> {
    Ok(Json(orders::update_subscription(&state, &p, &id, req).await?))
}

/// Renew a paid period subscription (active or frozen) for `period` x
/// `period_count`: a renewal order priced like a purchase is paid from the
/// wallet at once, the expiry moves on from the current expiry, a frozen
/// subscription becomes active again, and the seller is told
/// (updateInstanceStatus UNFREEZE if it was frozen, then refreshInstance
/// RENEWAL with the new expiry). With `sku_id` and/or `quantity` naming
/// another specification of the same product (e.g. a downgrade), the
/// seller's changeInstanceCheck is asked first; allowed, the renewal is
/// priced at the new specification, which becomes current, and the seller
/// gets refreshInstance RENEWAL_CHANGE. Send an `Idempotency-Key` header to
/// make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/subscriptions/{id}/renew", tag = "orders", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = RenewSubscription,
    responses(
        (status = 200, body = lifecycle::RenewalView),
        AuthProblems,
        (status = 402, description = "`insufficient_funds`: nothing changed", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "`subscription_ended` (released or failed), `not_renewable` (a trial, one-time or pay-per-use subscription), `not_provisioned`, `not_activated` (a license code not activated yet), `subscription_changed`, `idempotency_key_in_use`; `not_offered`: the SKU renewed into does not offer it (`sku_id` of another product, not a period SKU or not sold by the period; a quantity not among its choices; a total above 10^12 minor units; `errors` names each field); with `sku_id`/`quantity`: `change_refused` (changeInstanceCheck answered other than 000000), `change_in_progress` (an upgrade awaits the seller), `not_on_sale`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such subscription of the caller's, or `sku_id` names no SKU on sale (`errors` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: period_count out of range for the period, quantity out of 1-10^12, a bad `Idempotency-Key`; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`seller_unavailable`: the seller's changeInstanceCheck could not be asked; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn renew_subscription(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<RenewSubscription>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    // A retry is answered without asking the seller about a change again.
    if req.asks_change()
        && let Some(answer) = once.replayed(&state).await?
    {
        return Ok(answer.into_response());
    }
    let change = lifecycle::renewal_change(&state, &p, &id, &req).await?;
    let renewed =
        once.run(&state, StatusCode::OK, async |tx| lifecycle::renew(&state, tx, &p, &id, req, change).await).await?;
    Ok(renewed.into_response())
}
