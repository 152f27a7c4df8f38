//! Result codes of the production interface (spec §5) and how a caller
//! should react to each.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A `resultCode` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 000000
    Success,
    /// 000001: signature check failed.
    AuthFailed,
    /// 000002: invalid request parameter (missing header, bad body...).
    InvalidParam,
    /// 000003: the instance does not exist.
    InstanceNotFound,
    /// 000004: accepted, provisioning asynchronously.
    InProgress,
    /// 000005: other internal error; retry.
    InternalError,
    /// 000100
    NoResource,
    /// 000101
    MobileInvalid,
    /// 000102
    EmailInvalid,
    /// 000103
    AlreadyBought,
    /// 000104
    ProductServiceError,
    /// 000105
    BenefitAlreadyHeld,
    /// 000106
    SoldOut,
    /// 000107
    EmailDomainExists,
    /// Any other code, kept verbatim.
    Other(String),
}

/// How a caller should react to a result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeClass {
    /// 000000: done.
    Success,
    /// 000004: accepted; poll `queryInstance` for the result.
    InProgress,
    /// 000001, 000002, 000003: the call itself is wrong (signature/key,
    /// parameters, unknown instance). Re-sending the same call cannot
    /// succeed until the seller or the marketplace configuration changes,
    /// so it is not retried automatically; it is kept in the interface
    /// message log, where it can be re-sent after a fix. (A caller may
    /// treat 000003 on `releaseInstance` as "already gone".)
    Rejected,
    /// 000100-000107: a business refusal of the purchase; the order fails
    /// and the buyer is refunded at once.
    Refused,
    /// 000005 and unknown codes: transient; retry with back-off.
    Retryable,
}

impl ResultCode {
    /// The six-digit wire form.
    pub fn as_str(&self) -> &str {
        match self {
            ResultCode::Success => "000000",
            ResultCode::AuthFailed => "000001",
            ResultCode::InvalidParam => "000002",
            ResultCode::InstanceNotFound => "000003",
            ResultCode::InProgress => "000004",
            ResultCode::InternalError => "000005",
            ResultCode::NoResource => "000100",
            ResultCode::MobileInvalid => "000101",
            ResultCode::EmailInvalid => "000102",
            ResultCode::AlreadyBought => "000103",
            ResultCode::ProductServiceError => "000104",
            ResultCode::BenefitAlreadyHeld => "000105",
            ResultCode::SoldOut => "000106",
            ResultCode::EmailDomainExists => "000107",
            ResultCode::Other(s) => s,
        }
    }

    /// Parse a wire code; unknown codes become [`ResultCode::Other`].
    pub fn parse(s: &str) -> ResultCode {
        match s {
            "000000" => ResultCode::Success,
            "000001" => ResultCode::AuthFailed,
            "000002" => ResultCode::InvalidParam,
            "000003" => ResultCode::InstanceNotFound,
            "000004" => ResultCode::InProgress,
            "000005" => ResultCode::InternalError,
            "000100" => ResultCode::NoResource,
            "000101" => ResultCode::MobileInvalid,
            "000102" => ResultCode::EmailInvalid,
            "000103" => ResultCode::AlreadyBought,
            "000104" => ResultCode::ProductServiceError,
            "000105" => ResultCode::BenefitAlreadyHeld,
            "000106" => ResultCode::SoldOut,
            "000107" => ResultCode::EmailDomainExists,
            other => ResultCode::Other(other.to_owned()),
        }
    }

    /// The English meaning (spec §5), suitable as a default `resultMsg`.
    pub fn message(&self) -> &'static str {
        match self {
            ResultCode::Success => "success",
            ResultCode::AuthFailed => "authentication failed",
            ResultCode::InvalidParam => "invalid request parameter",
            ResultCode::InstanceNotFound => "instance does not exist",
            ResultCode::InProgress => "in progress",
            ResultCode::InternalError => "internal error",
            ResultCode::NoResource => "no instance resource available",
            ResultCode::MobileInvalid => "mobile number missing or duplicate",
            ResultCode::EmailInvalid => "email missing or duplicate",
            ResultCode::AlreadyBought => "product cannot be bought twice",
            ResultCode::ProductServiceError => "product internal service error",
            ResultCode::BenefitAlreadyHeld => "account already holds this benefit",
            ResultCode::SoldOut => "product sold out",
            ResultCode::EmailDomainExists => "SaaS email domain already exists",
            ResultCode::Other(_) => "unknown result code",
        }
    }

    /// How a caller should react; see [`CodeClass`].
    pub fn class(&self) -> CodeClass {
        match self {
            ResultCode::Success => CodeClass::Success,
            ResultCode::InProgress => CodeClass::InProgress,
            ResultCode::AuthFailed | ResultCode::InvalidParam | ResultCode::InstanceNotFound => CodeClass::Rejected,
            ResultCode::NoResource
            | ResultCode::MobileInvalid
            | ResultCode::EmailInvalid
            | ResultCode::AlreadyBought
            | ResultCode::ProductServiceError
            | ResultCode::BenefitAlreadyHeld
            | ResultCode::SoldOut
            | ResultCode::EmailDomainExists => CodeClass::Refused,
            ResultCode::InternalError | ResultCode::Other(_) => CodeClass::Retryable,
        }
    }

    /// All known codes, in numeric order.
    pub const KNOWN: [ResultCode; 14] = [
        ResultCode::Success,
        ResultCode::AuthFailed,
        ResultCode::InvalidParam,
        ResultCode::InstanceNotFound,
        ResultCode::InProgress,
        ResultCode::InternalError,
        ResultCode::NoResource,
        ResultCode::MobileInvalid,
        ResultCode::EmailInvalid,
        ResultCode::AlreadyBought,
        ResultCode::ProductServiceError,
        ResultCode::BenefitAlreadyHeld,
        ResultCode::SoldOut,
        ResultCode::EmailDomainExists,
    ];
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ResultCode::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_classes() {
        for c in ResultCode::KNOWN {
            assert_eq!(ResultCode::parse(c.as_str()), c);
            assert_ne!(c.message(), "unknown result code");
        }
        assert_eq!(ResultCode::parse("123456"), ResultCode::Other("123456".into()));
        assert_eq!(ResultCode::parse("000000").class(), CodeClass::Success);
        assert_eq!(ResultCode::parse("000004").class(), CodeClass::InProgress);
        assert_eq!(ResultCode::parse("000005").class(), CodeClass::Retryable);
        assert_eq!(ResultCode::parse("999").class(), CodeClass::Retryable);
        for c in ["000001", "000002", "000003"] {
            assert_eq!(ResultCode::parse(c).class(), CodeClass::Rejected);
        }
        for c in 100..=107 {
            assert_eq!(ResultCode::parse(&format!("000{c}")).class(), CodeClass::Refused);
        }
        assert_eq!(serde_json::to_string(&ResultCode::SoldOut).unwrap(), "\"000106\"");
    }
}
