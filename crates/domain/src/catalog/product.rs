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
    let mut seen: Vec<String> = Vec::new();
    for t in tags {
        let key = t.trim().to_lowercase();
        if seen.contains(&key) {
            c.add("tags", format!("duplicate tag \"{}\"", t.trim()));
            break;
        }
        seen.push(key);
    }
}

/// Where a SaaS product's seller server answers production calls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
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
pub fn check_endpoint(c: &mut Checker, e: &Endpoint, allow_insecure_loopback: bool) {
    c.text("endpoint.url", &e.url, 1, URL_MAX);
    match url::Url::parse(&e.url) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => {}
        Ok(u) if u.scheme() == "http" && allow_insecure_loopback && u.host().is_some_and(|h| is_loopback(&h)) => {}
        Ok(u) if u.scheme() == "http" => c.add("endpoint.url", "must use https"),
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
}

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
        p.tags = vec!["a".into(), "A".into()];
        let fields: Vec<_> = check_product(&p).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "tags"]);
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
