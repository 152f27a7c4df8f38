//! Partners (客户服务商), `mercato_domain::channel::partners`.
//!
//! A partner is onboarded and certified like a seller (the same
//! applications and operator review, [`onboarding`]); once certified it
//! invites buyers to bind to it ([`bindings`]: a buyer has at most one
//! active partner), asks operators for exclusive discounts (专属优惠) for its
//! bound customers on joint-operation products ([`discounts`]: funded from
//! the partner's share of the sale, fixed on approval) and passes its
//! customers' demands to sellers ([`demands`]). The operator sets the
//! partner share ([`share`]).
//!
//! Every status change is a conditional update on the status read, in one
//! write transaction: of two requests racing, one wins and the other gets
//! 409 with the status as it is now.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::Paging;
use mercato_domain::catalog::Cooperation;
use mercato_domain::orders::TransitionError;
use mercato_store::Executor;
use mercato_store::entity::product;
use mercato_store::repo::catalog;

pub mod bindings;
pub mod demands;
pub mod discounts;
pub mod onboarding;
pub mod share;

use crate::app::page::id_cursor as parse_cursor;
pub use bindings::ensure_bound;
pub use onboarding::ensure_certified;

/// A note or reason as `check_note` checks it (1-500 characters, no
/// control characters but tabs and line breaks).
fn note_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    mercato_domain::schema::to_schema(mercato_domain::schema::text(1, mercato_domain::channel::partners::NOTE_MAX))
}

/// Why a conditional step wrote nothing: `next` is the step applied to the
/// status read again: `out_of_order` if it no longer applies, else 409
/// `concurrent_update` (another writer came between).
fn lost_race<S>(next: Result<S, TransitionError>, what: &str) -> AppError {
    match next {
        Err(e) => out_of_order(e),
        Ok(_) => {
            AppError::conflict("concurrent_update", format!("the {what} changed while this request ran; try again"))
        }
    }
}

/// 409 `out_of_order`: the resource's status does not allow the step.
fn out_of_order(e: TransitionError) -> AppError {
    AppError::conflict("out_of_order", e.to_string())
}

/// The status filter of a list: empty means all.
fn parse_status<T>(
    status: Option<String>,
    parse: fn(&str) -> Option<T>,
    allowed: fn() -> String,
) -> AppResult<Option<T>> {
    crate::app::page::word_filter("status", status, parse, allowed)
}

/// The listed joint-operation product a discount or demand is about: an
/// unknown or unlisted one is a 404 naming `product_id`, a
/// general-cooperation one 409 `not_joint_operation` (KooGallery: exclusive
/// discounts and private offers are for 联营 products only).
async fn joint_product(db: &impl Executor, product_id: &str) -> AppResult<product::Model> {
    let unknown =
        || AppError::about_field(Refusal::NotFound, "not_found", "product_id", "no listed product has this id");
    if !mercato_domain::ids::ProductId::is_valid(product_id) {
        return Err(unknown());
    }
    let p = catalog::find_listed(db, product_id).await?.ok_or_else(unknown)?;
    if p.cooperation != Cooperation::Joint {
        return Err(AppError::about_field(
            Refusal::Conflict,
            "not_joint_operation",
            "product_id",
            "the product is sold under general cooperation; this is for joint-operation products only",
        ));
    }
    Ok(p)
}
