//! The buyer's pay-per-use usage: usage per period of a subscription, usage
//! charges with their lines, and quota packages (rules in
//! [`crate::app::usage::views`]).

use crate::app::page::{Page, Paging};
use crate::app::usage::views::{
    self, ChargeStatus, SubscriptionUsageView, UsageChargeDetailView, UsageChargeView, UsagePackageView,
    UsageRangeParams,
};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::http::accounts::PageParams;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(subscription_usage))
        .routes(routes!(list_charges))
        .routes(routes!(get_charge))
        .routes(routes!(list_packages))
}

/// Usage of one of your pay-per-use subscriptions (or a quota package's own
/// instance), one item per rated period, oldest first, with the sums in
/// `total`. `granularity=day` sums hours into UTC days; the range is
/// widened to whole periods and may span at most 93 days.
#[utoipa::path(get, path = "/api/v1/buyer/subscriptions/{id}/usage", tag = "usage", security(("api_key" = [])),
    params(("id" = String, Path, description = "subscription id"), UsageRangeParams),
    responses(
        (status = 200, body = SubscriptionUsageView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_pay_per_use`: the subscription has no usage; `granularity_unavailable`: `hour` on a daily-billed subscription (its usage is known per day only)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a `granularity`, `from` or `to` that is not one (each is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn subscription_usage(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UsageRangeParams>,
) -> ApiResult<Json<SubscriptionUsageView>> {
    Ok(Json(views::subscription_usage(&state, &p.account_id, &id, &q).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChargeParams {
    /// `paid` or `arrears`; both when absent.
    #[serde(default)]
    #[param(inline)]
    pub status: Option<ChargeStatus>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Your usage charges, newest period first: one per closed billing period
/// and currency, paid from your wallet or in arrears until you top up.
#[utoipa::path(get, path = "/api/v1/buyer/usage/charges", tag = "usage", security(("api_key" = [])),
    params(ChargeParams),
    responses(
        (status = 200, body = Page<UsageChargeView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_charges(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<ChargeParams>,
) -> ApiResult<Json<Page<UsageChargeView>>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    Ok(Json(views::list_charges(&state, &p.account_id, q.status, paging).await?))
}

/// One of your usage charges with the usage lines it sums.
#[utoipa::path(get, path = "/api/v1/buyer/usage/charges/{id}", tag = "usage", security(("api_key" = [])),
    params(("id" = String, Path, description = "usage charge id")),
    responses(
        (status = 200, body = UsageChargeDetailView),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn get_charge(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<UsageChargeDetailView>> {
    Ok(Json(views::get_charge(&state, &p.account_id, &id).await?))
}

/// Your quota packages, newest first: quota, what rated usage has drawn
/// from each, and what remains.
#[utoipa::path(get, path = "/api/v1/buyer/usage/packages", tag = "usage", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<UsagePackageView>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_packages(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<UsagePackageView>>> {
    Ok(Json(views::list_packages(&state, &p.account_id, q.paging()?).await?))
}
