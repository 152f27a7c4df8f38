//! Secrets out of recorded messages: what the marketplace sent to a seller
//! and what came back is kept for sellers and operators to read, but a
//! member named like a secret (the buyer's `appInfo.password`, a token, a
//! key) keeps only its name.
//!
//! The scan works on the text, not on a parsed document, so it also covers
//! an answer cut at the logging limit or JSON inside a non-JSON reply, and
//! everything around a secret stays byte for byte as recorded.

use std::borrow::Cow;

/// What stands in for a secret value.
pub const REDACTED: &str = "[redacted]";

/// Member names that hold secrets, compared without case, `_` or `-`
/// (`appPassword`, `client_secret`, `X-Api-Key` all match). The one list:
/// the recorder, the views and the migration of old rows all use it.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "kitkey",
    "authorization",
    "credential",
    "credentials",
    "sk",
];

/// Suffixes that make a name secret whatever comes before (`adminPassword`,
/// `refreshToken`, `clientSecret`, `licenseKey` is not: it is the product).
const SECRET_SUFFIXES: &[&str] = &["password", "passwd", "secret", "token", "apikey", "privatekey", "accesskey"];

/// Whether a member name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect();
    SECRET_NAMES.contains(&folded.as_str()) || SECRET_SUFFIXES.iter().any(|s| folded.ends_with(s))
}

/// `text` with the value of every member named like a secret replaced by
/// [`REDACTED`]: string values (possibly cut short at the end of the text)
/// and bare values up to the next `,` `}` `]`. Borrowed when nothing changed.
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let key_end = string_end(bytes, i);
        let Some(after_key) = key_end else { break };
        let key = &text[i + 1..after_key - 1];
        let colon = skip_space(bytes, after_key);
        if colon >= bytes.len() || bytes[colon] != b':' || !is_secret_name(&unescape(key)) {
            i = after_key;
            continue;
        }
        let value_start = skip_space(bytes, colon + 1);
        let value_end = match bytes.get(value_start) {
            None => break,
            Some(b'"') => string_end(bytes, value_start).unwrap_or(bytes.len()),
            // A secret member holding an object or array: its members are
            // scanned in turn (a `credentials` object's `password`...).
            Some(b'{' | b'[') => {
                i = value_start;
                continue;
            }
            Some(_) => bare_end(bytes, value_start),
        };
        if text[value_start..value_end] != *format!("\"{REDACTED}\"") {
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[copied..value_start]);
            buf.push('"');
            buf.push_str(REDACTED);
            buf.push('"');
            copied = value_end;
        }
        i = value_end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// Index just past the closing quote of the string opening at `start`, or
/// None when the text ends inside it.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn bare_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']') && !bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The name as JSON means it, for the few escapes a name may use.
fn unescape(key: &str) -> Cow<'_, str> {
    if !key.contains('\\') {
        return Cow::Borrowed(key);
    }
    serde_json::from_str::<String>(&format!("\"{key}\"")).map_or(Cow::Borrowed(key), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn secret_values_go_and_everything_else_stays_byte_for_byte() {
        let reply = r#"{"resultCode":"000000", "appInfo":{"frontEndUrl":"https://a/x","userName":"u1","password" : "Pa\"ss"},"n":1}"#;
        assert_eq!(
            redact(reply),
            r#"{"resultCode":"000000", "appInfo":{"frontEndUrl":"https://a/x","userName":"u1","password" : "[redacted]"},"n":1}"#
        );
        let many = r#"[{"client_secret":"s1","accessToken":"t","X-Api-Key":42,"pwd":null},{"refresh-token":"r"}]"#;
        assert_eq!(
            redact(many),
            r#"[{"client_secret":"[redacted]","accessToken":"[redacted]","X-Api-Key":"[redacted]","pwd":"[redacted]"},{"refresh-token":"[redacted]"}]"#
        );
        let nested = r#"{"credentials":{"password":"p","user":"u"}}"#;
        assert_eq!(redact(nested), r#"{"credentials":{"password":"[redacted]","user":"u"}}"#);
        let escaped_name = r#"{"pass\u0077ord":"p"}"#;
        assert_eq!(redact(escaped_name), r#"{"pass\u0077ord":"[redacted]"}"#);
    }

    #[test]
    fn a_reply_cut_short_or_not_json_is_still_covered() {
        assert_eq!(redact(r#"{"appInfo":{"password":"abc"#), r#"{"appInfo":{"password":"[redacted]""#);
        assert_eq!(
            redact("<html>error {\"token\": \"t-1\"} </html>"),
            "<html>error {\"token\": \"[redacted]\"} </html>"
        );
        assert_eq!(redact(r#"{"password""#), r#"{"password""#);
    }

    #[test]
    fn plain_text_and_innocent_members_are_untouched() {
        for text in [
            "",
            "connection refused",
            r#"{"resultCode":"000000","instanceId":"i-1","license":"ABC","tokenType":"bearer"}"#,
            r#"{"message":"password","note":"the password is set"}"#,
            r#"{"password_hint_shown":true}"#,
        ] {
            assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
        }
        let once = redact(r#"{"password":"x"}"#).into_owned();
        assert!(matches!(redact(&once), Cow::Borrowed(_)), "redacting twice changes nothing");
    }

    proptest! {
        #[test]
        fn no_secret_survives_in_any_json_document(
            secret in "[A-Za-z0-9!#%&()*+./:;<=>?@^_`{|}~ -]{4,24}",
            name in prop::sample::select(vec!["password", "adminPassword", "client_secret", "token", "apiKey"]),
            other in "[a-z]{0,12}",
            depth in 0usize..4,
        ) {
            let mut doc = serde_json::json!({ name: secret.clone(), "other": other });
            for _ in 0..depth {
                doc = serde_json::json!({"wrap": [doc, {"x": 1}]});
            }
            for text in [doc.to_string(), serde_json::to_string_pretty(&doc).unwrap()] {
                let redacted = redact(&text);
                let value: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
                prop_assert!(!value.to_string().contains(&serde_json::Value::String(secret.clone()).to_string()));
                prop_assert!(redacted.contains(REDACTED));
            }
        }
    }
}
