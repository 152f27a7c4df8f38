//! How the store reads and writes domain types as text columns, so entity
//! fields are domain types and a row is parsed once, where it is read: the
//! closed sets of names (`string_enum!` types, stored as their word) and the
//! documents kept whole (a SKU's specification, a product's content, its
//! listed and review snapshots, stored as compact JSON).
//!
//! Only with the `store` feature, which `mercato-store` turns on: this file is
//! the one place in the domain crate that names the ORM, and the rules never
//! use it. The impls have to live here (Rust's orphan rule: the store may not
//! implement the ORM's traits for the domain's types).
//!
//! A stored text that does not read as its type is a `DbErr::Type` naming the
//! column, the value and the type; the store turns it into
//! `StoreError::Corrupt`, the single place such data is reported.

#[cfg(feature = "store")]
#[doc(hidden)]
pub use sea_orm as __sea_orm;
#[cfg(feature = "store")]
#[doc(hidden)]
pub use serde_json as __serde_json;

/// The ORM's value traits for `$name` kept in a text column: `|v| $write`
/// gives the text to store, `|text| $read` the value read back or why the
/// text is not one (completing "column <name> holds ...").
#[cfg(feature = "store")]
#[doc(hidden)]
#[macro_export]
macro_rules! stored_column {
    ($name:ident, $column_type:expr, |$v:ident| $write:expr, |$text:ident| $read:expr) => {
        impl From<$name> for $crate::stored::__sea_orm::Value {
            fn from($v: $name) -> Self {
                $crate::stored::__sea_orm::Value::String(Some($write))
            }
        }

        impl $name {
            #[doc(hidden)]
            pub fn __from_stored($text: String) -> Result<Self, String> {
                $read
            }
        }

        impl $crate::stored::__sea_orm::TryGetable for $name {
            fn try_get_by<I: $crate::stored::__sea_orm::ColIdx>(
                res: &$crate::stored::__sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, $crate::stored::__sea_orm::TryGetError> {
                $name::__from_stored(String::try_get_by(res, idx)?).map_err(|why| {
                    $crate::stored::__sea_orm::TryGetError::DbErr($crate::stored::__sea_orm::DbErr::Type(format!(
                        "column {idx:?} holds {why}"
                    )))
                })
            }
        }

        impl $crate::stored::__sea_orm::sea_query::ValueType for $name {
            fn try_from(
                v: $crate::stored::__sea_orm::Value,
            ) -> Result<Self, $crate::stored::__sea_orm::sea_query::ValueTypeErr> {
                let text = <String as $crate::stored::__sea_orm::sea_query::ValueType>::try_from(v)?;
                $name::__from_stored(text).map_err(|_| $crate::stored::__sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> $crate::stored::__sea_orm::sea_query::ArrayType {
                $crate::stored::__sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> $crate::stored::__sea_orm::sea_query::ColumnType {
                $column_type
            }
        }

        impl $crate::stored::__sea_orm::sea_query::Nullable for $name {
            fn null() -> $crate::stored::__sea_orm::Value {
                $crate::stored::__sea_orm::Value::String(None)
            }
        }

        // Lets the type be part of a primary key; such keys are never generated.
        impl $crate::stored::__sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, $crate::stored::__sea_orm::DbErr> {
                Err($crate::stored::__sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl $crate::stored::__sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> $crate::stored::__sea_orm::ActiveValue<$name> {
                $crate::stored::__sea_orm::ActiveValue::Set(self)
            }
        }
    };
}

/// A `string_enum!` type stored as its word.
#[cfg(feature = "store")]
#[doc(hidden)]
#[macro_export]
macro_rules! stored_as_text {
    ($name:ident) => {
        $crate::stored_column!(
            $name,
            $crate::stored::__sea_orm::sea_query::ColumnType::String(
                $crate::stored::__sea_orm::sea_query::StringLen::None
            ),
            |v| v.as_str().to_owned(),
            |text| $name::parse(&text).ok_or_else(|| {
                format!("{text:?}, which is not a {} (one of: {})", stringify!($name), $name::allowed())
            })
        );
    };
}

/// A serde type stored as compact JSON: the same bytes `serde_json::to_string`
/// wrote before the column was typed.
#[cfg(feature = "store")]
#[doc(hidden)]
#[macro_export]
macro_rules! stored_as_json {
    ($name:ident) => {
        $crate::stored_column!(
            $name,
            $crate::stored::__sea_orm::sea_query::ColumnType::Text,
            // These documents hold only strings, numbers, lists and
            // string-keyed maps: serializing them cannot fail.
            |v| $crate::stored::__serde_json::to_string(&v).expect("a stored document serializes"),
            |text| $crate::stored::__serde_json::from_str(&text)
                .map_err(|e| format!("JSON that is not a {}: {e}", stringify!($name)))
        );
    };
}

/// Prefixed ids (`crate::ids`) kept as their text: a stored text without
/// the id's shape is a corrupt row, not a parse at every call site.
#[cfg(feature = "store")]
macro_rules! stored_ids {
    ($($name:ident),+ $(,)?) => {
        $(
            $crate::stored_column!(
                $name,
                $crate::stored::__sea_orm::sea_query::ColumnType::String(
                    $crate::stored::__sea_orm::sea_query::StringLen::None
                ),
                |v| String::from(v),
                |text| $name::parse(&text).ok_or_else(|| format!("{text:?}, which is not a {}", stringify!($name)))
            );
        )+
    };
}

#[cfg(feature = "store")]
mod stored_ids {
    use crate::ids::{
        BindingId, CouponBatchId, CouponId, DemandId, ExclusiveDiscountId, InvoiceId, OfferId, PartnerStatementId,
    };

    stored_ids!(
        InvoiceId,
        BindingId,
        ExclusiveDiscountId,
        DemandId,
        OfferId,
        CouponBatchId,
        CouponId,
        PartnerStatementId
    );
}

/// Without the `store` feature the domain's types carry no column mapping.
#[cfg(not(feature = "store"))]
#[doc(hidden)]
#[macro_export]
macro_rules! stored_as_text {
    ($name:ident) => {};
}

#[cfg(not(feature = "store"))]
#[doc(hidden)]
#[macro_export]
macro_rules! stored_as_json {
    ($name:ident) => {};
}
