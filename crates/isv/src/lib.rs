//! The reference seller (`mercato isv serve`): a complete implementation of
//! the KooGallery-compatible production interface on the `koo` seller SDK,
//! with its own SQLite state and configurable misbehaviour (fault
//! injection) for testing the marketplace and the conformance checker
//! (`mercato-conformance`).
//!
//! - [`store`]: the seller's state (instances, kit sync, license codes);
//! - [`seller`]: the SDK traits implemented on the store (behaviour decisions
//!   are documented there);
//! - [`faults`]: fail rate, latency, async provisioning, refusals, downtime;
//! - [`serve`]: HTTP on 127.0.0.1 at `/produce` and `/produce/produceAPI/v2/{name}`.

pub mod clock;
pub mod faults;
pub mod seller;
pub mod serve;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::{FaultAction, FaultPolicy, Faults};
pub use seller::ReferenceSeller;
pub use serve::{Controlled, ReferenceSellerConfig, app, bind, serve, serve_on};
pub use store::{SellerStore, StoreError};
