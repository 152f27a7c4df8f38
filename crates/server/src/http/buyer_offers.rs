//! A buyer's private offers (专属优惠 from sellers): the offers made to you,
//! each SKU with its list price and the offered price on the offer's terms.

use crate::app::offers::{self, OfferParams, OfferView, Party};
use crate::app::page::Page;
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_offers)).routes(routes!(get_offer))
}

/// Private offers sellers made to you, newest first: status, validity
/// (`usable_now`), the product, each SKU's list and offered price on the
/// offer's terms, the seller's message.
#[utoipa::path(get, path = "/api/v1/buyer/private-offers", operation_id = "list_buyer_private_offers", tag = "private offers", security(("api_key" = [])),
    params(OfferParams),
    responses(
        (status = 200, body = Page<OfferView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_offers(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<OfferParams>,
) -> ApiResult<Json<Page<OfferView>>> {
    Ok(Json(offers::list(&state, Party::Buyer(&p), q).await?))
}

/// One private offer made to you (another buyer's: 404).
#[utoipa::path(get, path = "/api/v1/buyer/private-offers/{id}", operation_id = "get_buyer_private_offer", tag = "private offers", security(("api_key" = [])),
    params(("id" = String, Path, description = "offer id (`ofr_...`)")),
    responses((status = 200, body = OfferView), AuthProblems, NotFoundProblem))]
async fn get_offer(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OfferView>> {
    Ok(Json(offers::get(&state, Party::Buyer(&p), &id).await?))
}
