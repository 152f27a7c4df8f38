//! Health, readiness and metrics.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use mercato_store::Backend;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    /// "sqlite" or "postgres".
    pub database: String,
    /// Whether the marketplace runs on the operator test clock.
    pub test_clock: bool,
    /// The marketplace's current time (the test clock's when it is on).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Readiness>> {
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "database not ready");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "the database is not answering")
    })?;
    let database = match state.db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Ok(Json(Readiness {
        status: "ready".into(),
        database: database.into(),
        test_clock: state.test_clock.is_some(),
        now: state.now(),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
