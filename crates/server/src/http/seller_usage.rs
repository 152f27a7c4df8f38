//! The seller's usage error records: pushed records that failed the
//! asynchronous business validation, or repeat an earlier valid record.
//! An error record is corrected by pushing it again under the same
//! metering_sn (it is then validated again). Also the rated usage of one
//! of the seller's instances per period (rules in
//! [`crate::app::usage::views`]).

use crate::app::page::{Page, Paging};
use crate::app::usage::intake::{self, ErrorFilter, UsageErrorView};
use crate::app::usage::views::{self, InstanceUsageView, UsageRangeParams};
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(errors)).routes(routes!(instance_usage))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ErrorParams {
    /// Only this instance's records.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// `error` or `duplicate`; both when absent.
    #[serde(default)]
    #[param(inline)]
    pub status: Option<ErrorFilter>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Your usage records that were not accepted for charging, by metering_sn:
/// `error` records (with error_code and error_reason; push a corrected
/// record under the same metering_sn to have it validated again) and
/// `duplicate` records (naming the metering_sn they repeat).
#[utoipa::path(get, path = "/api/v1/seller/usage/errors", tag = "usage", security(("api_key" = [])),
    params(ErrorParams),
    responses(
    (status = 200, body = Page<UsageErrorView>),
    AuthProblems,
    (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
))]
async fn errors(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<ErrorParams>,
) -> ApiResult<Json<Page<UsageErrorView>>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let instance = q.instance_id.as_deref().filter(|i| !i.is_empty());
    Ok(Json(intake::list_errors(&state, &p.account_id, instance, q.status, paging).await?))
}

/// Rated usage of one of your instances, one item per period, oldest first,
/// with the buyer, the subscription and the sums in `total`.
/// `granularity=day` sums hours into UTC days; the range is widened to whole
/// periods and may span at most 93 days.
#[utoipa::path(get, path = "/api/v1/seller/usage/instances/{instance_id}", tag = "usage", security(("api_key" = [])),
    params(("instance_id" = String, Path, description = "instance id"), UsageRangeParams),
    responses(
    (status = 200, body = InstanceUsageView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`not_pay_per_use`: the instance has no usage; `granularity_unavailable`: `hour` on a daily-billed instance (its usage is known per day only)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: a `granularity`, `from` or `to` that is not one (each is named)", body = Problem, content_type = "application/problem+json"),
))]
async fn instance_usage(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(instance_id): Path<String>,
    ApiQuery(q): ApiQuery<UsageRangeParams>,
) -> ApiResult<Json<InstanceUsageView>> {
    Ok(Json(views::instance_usage(&state, &p.account_id, &instance_id, &q).await?))
}
