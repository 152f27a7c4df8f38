//! Product kinds and the rules on a product's descriptive content.

use crate::Invalid;
use crate::validation::Checker;

string_enum!(
    ProductType {
        Saas => "saas",
        License => "license",
        ManualService => "manual_service",
        Api => "api",
        Image => "image",
        Hardware => "hardware",
        AiAsset => "ai_asset",
        Container => "container",
        DataAsset => "data_asset",
        AppOrchestration => "app_orchestration",
    }
);

string_enum!(
    /// Joint operation (联营: the marketplace sells, settles and supports with
    /// the seller) or general cooperation (the seller sells through the
    /// marketplace under its own terms).
    Cooperation {
        Joint => "joint",
        General => "general",
    }
);

pub const NAME_MAX: usize = 100;
pub const VERSION_MAX: usize = 32;
pub const SUMMARY_MAX: usize = 300;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const GUIDE_MAX: usize = 20_000;
pub const SUPPORT_MAX: usize = 5_000;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 32;
pub const URL_MAX: usize = 2_048;
pub const ACCESS_KEY_MIN: usize = 8;
pub const ACCESS_KEY_MAX: usize = 128;

/// A product's descriptive content: what the seller edits and the operator
/// reviews. (Type and cooperation model are fixed at creation.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProductContent {
    pub name: String,
    pub version: String,
    pub category_id: String,
    pub summary: String,
    pub description: String,
    pub usage_guide: String,
    pub support_terms: String,
    pub tags: Vec<String>,
}

crate::stored_as_json!(ProductContent);

pub fn check_product(p: &ProductContent) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("name", &p.name, 1, NAME_MAX);
    c.text("version", &p.version, 1, VERSION_MAX);
    c.text("category_id", &p.category_id, 1, 64);
    c.text("summary", &p.summary, 1, SUMMARY_MAX);
    c.text("description", &p.description, 1, DESCRIPTION_MAX);
    c.text("usage_guide", &p.usage_guide, 0, GUIDE_MAX);
    c.text("support_terms", &p.support_terms, 0, SUPPORT_MAX);
    check_tags(&mut c, &p.tags);
    c.finish()
}

pub fn check_tags(c: &mut Checker, tags: &[String]) {
    c.check(tags.len() <= TAGS_MAX, "tags", format!("at most {TAGS_MAX} tags"));
    for (i, t) in tags.iter().enumerate() {
        c.text(&format!("tags[{i}]"), t, 1, TAG_MAX);
    }
}

/// Tags are a set: trimmed, and a tag that repeats an earlier one (compared
/// without case) is dropped, the first spelling kept. (Refusing duplicates
/// was a rule JSON Schema cannot state: `uniqueItems` compares exactly.)
pub fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for t in tags {
        let t = t.trim().to_string();
        let key = t.to_lowercase();
        if !seen.contains(&key) {
            seen.push(key);
            out.push(t);
        }
    }
    out
}

/// The content fields and their schemas, as [`check_product`] checks them,
/// with whether a new product must send them (the others default to empty).
pub fn content_schemas() -> Vec<(&'static str, serde_json::Value, bool)> {
    use crate::schema::{described, text};
    let tags = serde_json::json!({
        "type": "array",
        "maxItems": TAGS_MAX,
        "items": text(1, TAG_MAX),
        "description": "Search tags; a tag repeating an earlier one (compared without case) is dropped.",
    });
    vec![
        ("name", text(1, NAME_MAX), true),
        ("version", text(1, VERSION_MAX), true),
        (
            "category_id",
            described(text(1, 64), "A category id (see GET /api/v1/catalog/categories); an unknown one is a 404."),
            true,
        ),
        ("summary", text(1, SUMMARY_MAX), true),
        ("description", text(1, DESCRIPTION_MAX), true),
        ("usage_guide", text(0, GUIDE_MAX), false),
        ("support_terms", text(0, SUPPORT_MAX), false),
        ("tags", tags, false),
    ]
}

/// Where a SaaS product's seller server answers production calls; its
/// schema ([`endpoint_schema`]) states [`check_endpoint`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// HTTPS URL of the seller's production interface.
    pub url: String,
    /// Shared secret used to sign calls to the seller; stored encrypted.
    pub access_key: String,
}

/// Seller endpoints must be absolute HTTPS URLs with a host, read by a
/// real URL parser (so `http://127.evil.example` is not "loopback"). Plain
/// HTTP is accepted only for loopback hosts, and only when the marketplace
/// runs with insecure endpoints allowed (tests and the demo). Which
/// addresses may be called at all is decided when a call connects.
/// Checks a seller endpoint; returns the URL as parsed when it names a host
/// (for the caller's address checks), whether or not it passed.
pub fn check_endpoint(c: &mut Checker, e: &Endpoint, allow_insecure_loopback: bool) -> Option<url::Url> {
    c.text("endpoint.url", &e.url, 1, URL_MAX);
    let parsed = url::Url::parse(&e.url).ok().filter(|u| u.host().is_some());
    match &parsed {
        Some(u) if u.scheme() == "https" => {}
        Some(u) if u.scheme() == "http" && allow_insecure_loopback && u.host().is_some_and(|h| is_loopback(&h)) => {}
        Some(u) if u.scheme() == "http" => c.add("endpoint.url", "must use https"),
        _ => c.add("endpoint.url", "must be an absolute https URL"),
    }
    if !e.url.is_empty() && e.url.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
        c.add("endpoint.url", "must not contain spaces or control characters");
    }
    let n = e.access_key.chars().count();
    c.check(
        (ACCESS_KEY_MIN..=ACCESS_KEY_MAX).contains(&n) && e.access_key.chars().all(|ch| ch.is_ascii_graphic()),
        "endpoint.access_key",
        format!("must be {ACCESS_KEY_MIN} to {ACCESS_KEY_MAX} printable ASCII characters"),
    );
    parsed
}

/// The endpoint URLs the document promises to accept: `https://`, a DNS
/// name (dot-separated labels of letters and digits, inner hyphens, the last
/// label starting with a letter), an optional port, then any visible ASCII
/// after `/`, `?` or `#`. Every such URL passes [`check_endpoint`] (and the
/// save-time address check, which only refuses IP literals); a few more
/// forms the WHATWG URL parser reads as https do too (IP literals the
/// marketplace may call; plain http to loopback where the marketplace
/// allows it, as in tests and the demo).
pub const ENDPOINT_URL_PATTERN: &str = concat!(
    "^https://(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\\.)+[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*",
    "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0))?",
    "(?:[/?#][!-~]*)?$",
);

/// The endpoint's schema.
pub fn endpoint_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, matching};
    Fields::new()
        .required(
            "url",
            described(matching(ENDPOINT_URL_PATTERN, 11, URL_MAX), "HTTPS URL of the seller's production interface."),
        )
        .required(
            "access_key",
            described(
                matching("^[!-~]+$", ACCESS_KEY_MIN, ACCESS_KEY_MAX),
                "Shared secret used to sign calls to the seller (visible ASCII); stored encrypted.",
            ),
        )
        .closed()
}

crate::schema_from_fragment!(Endpoint, endpoint_schema());

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> ProductContent {
        ProductContent {
            name: "云数据库 RDS".into(),
            version: "1.0".into(),
            category_id: "cat_x".into(),
            summary: "Managed database".into(),
            description: "A managed relational database.".into(),
            usage_guide: String::new(),
            support_terms: String::new(),
            tags: vec!["数据库".into(), "sql".into()],
        }
    }

    #[test]
    fn content_rules() {
        assert!(check_product(&content()).is_ok());
        let mut p = content();
        p.name = "x".repeat(NAME_MAX + 1);
        p.tags = vec!["a".into(), " ".into()];
        let fields: Vec<_> = check_product(&p).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "tags[1]"]);
    }

    #[test]
    fn tags_are_a_set() {
        let tags = normalize_tags(vec![" SQL ".into(), "数据库".into(), "sql".into(), "Sql".into()]);
        assert_eq!(tags, ["SQL", "数据库"]);
    }

    /// URLs the pattern matches (repetitions bounded, to stay under the
    /// length limit).
    fn endpoint_urls() -> impl proptest::strategy::Strategy<Value = String> {
        let bounded =
            ENDPOINT_URL_PATTERN[1..ENDPOINT_URL_PATTERN.len() - 1].replace('+', "{1,6}").replace('*', "{0,6}");
        proptest::string::string_regex(&bounded).unwrap()
    }

    proptest::proptest! {
        /// Every URL the document's pattern allows is accepted.
        #[test]
        fn documented_endpoint_urls_are_accepted(url in endpoint_urls()) {
            proptest::prop_assume!(url.chars().count() <= URL_MAX);
            let mut c = Checker::new();
            check_endpoint(&mut c, &Endpoint { url: url.clone(), access_key: "secret-key-1".into() }, false);
            proptest::prop_assert!(c.is_ok(), "{}: {:?}", url, c.finish());
        }
    }

    #[test]
    fn the_endpoint_url_pattern_by_example() {
        let re = regex::Regex::new(ENDPOINT_URL_PATTERN).unwrap();
        for ok in ["https://isv.example.com/produce", "https://a-b.example.cn:8443/x?y=1#z", "https://Seller.IO"] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in
            ["http://isv.example.com/", "https://10.0.0.1/", "https://localhost/", "https://a.b/ c", "https://a.123/"]
        {
            assert!(!re.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn endpoints_must_be_https_unless_loopback_is_allowed() {
        let check = |url: &str, allow| {
            let mut c = Checker::new();
            check_endpoint(&mut c, &Endpoint { url: url.into(), access_key: "secret-key-1".into() }, allow);
            c.is_ok()
        };
        assert!(check("https://isv.example.com/produce", false));
        assert!(!check("http://isv.example.com/produce", false));
        assert!(!check("http://isv.example.com/produce", true));
        assert!(check("http://127.0.0.1:9000/produce", true));
        assert!(!check("http://127.0.0.1:9000/produce", false));
        assert!(!check("isv.example.com", true));
        assert!(!check("ftp://isv.example.com", true));
        // Hosts are read by a URL parser, not by their first characters.
        for not_loopback in ["http://127.evil.example/", "http://localhost.evil.example/", "http://[::2]/"] {
            assert!(!check(not_loopback, true), "{not_loopback}");
        }
        assert!(check("http://[::1]:9/p", true) && check("http://localhost:9/p", true));
        assert!(!check("https://", true) && !check("https://user@/", true));
        assert!(!check("https://isv.example.com/a b", false));
    }
}
