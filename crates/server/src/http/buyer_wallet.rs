//! The buyer's wallet: balances and movements.

use crate::app::page::Page;
use crate::app::wallet::{self, Wallet, WalletTransaction};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::ApiQuery;
use crate::http::accounts::PageParams;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_wallet)).routes(routes!(transactions))
}

/// The calling buyer's wallet: what is available, per currency.
#[utoipa::path(get, path = "/api/v1/buyer/wallet", tag = "wallet", security(("api_key" = [])),
    responses(
        (status = 200, body = Wallet),
        AuthProblems,
    ))]
async fn get_wallet(State(state): State<AppState>, BuyerAuth(p): BuyerAuth) -> ApiResult<Json<Wallet>> {
    Ok(Json(wallet::wallet(&state, &p).await?))
}

/// The wallet's movements, newest first: top-ups and refunds positive, payments negative.
#[utoipa::path(get, path = "/api/v1/buyer/wallet/transactions", tag = "wallet", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<WalletTransaction>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn transactions(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<WalletTransaction>>> {
    Ok(Json(wallet::transactions(&state, &p, q.paging()?).await?))
}
