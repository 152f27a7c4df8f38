//! Mercato's pure business rules: identifiers, money, validation and the state
//! machines of accounts, seller onboarding and the catalog. No IO lives here;
//! the `store` feature only adds column mappings (see [`stored`]).

/// Declares a closed set of wire/storage names: serde (snake_case), OpenAPI
/// schema, `as_str`, `parse` and the full list, so the same words are used in
/// JSON, in the database and in "allowed values" error messages.
#[macro_export]
macro_rules! string_enum {
    // `$text:tt`, not `:literal`: a `literal` fragment reaches derive macros
    // wrapped in an invisible group, which utoipa's `rename` parser skips, so
    // the OpenAPI document showed the Rust variant names instead of the words.
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// "a, b, c": for error messages naming the allowed values.
            pub fn allowed() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::stored_as_text!($name);
    };
}

pub mod account;
pub mod catalog;
pub mod channel;
pub mod delivery;
pub mod ids;
pub mod invoicing;
pub mod ledger;
pub mod login_throttle;
pub mod money;
pub mod onboarding;
pub mod orders;
pub mod plan_changes;
pub mod rating;
pub mod redaction;
pub mod refunds;
pub mod schema;
pub mod settlement;
pub mod stored;
pub mod usage;
pub mod validation;

pub use validation::{FieldError, Invalid};
