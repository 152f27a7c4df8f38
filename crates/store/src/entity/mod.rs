//! SeaORM entities, one module per table. Enumerations are stored as their
//! wire names (text) and parsed by the domain types; JSON columns are text.

pub mod account;
pub mod api_key;
pub mod application_decision;
pub mod category;
pub mod commission_rate;
pub mod debug_run;
pub mod full_refund_count;
pub mod idempotency_key;
pub mod interface_failure;
pub mod interface_message;
pub mod job;
pub mod job_attempt;
pub mod ledger_balance;
pub mod ledger_entry;
pub mod ledger_line;
pub mod media;
pub mod notification;
pub mod open_api_credential;
pub mod order;
pub mod order_line;
pub mod payment;
pub mod product;
pub mod product_review;
pub mod refund;
pub mod renewal_term;
pub mod scheduler_lease;
pub mod seller_agreement;
pub mod seller_certification;
pub mod seller_onboarding;
pub mod setting;
pub mod sku;
pub mod subscription;
pub mod subscription_app_info;
pub mod trial_use;
pub mod usage_record;
