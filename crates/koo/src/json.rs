//! A small JSON parser and writer of our own.
//!
//! Signatures are computed over a re-serialisation of the body, so the bytes
//! we write must be exactly the bytes a Java seller's Jackson `ObjectMapper`
//! writes. `serde_json` normalises numbers, may reorder keys and escapes
//! differently, so the canonical form is produced here instead:
//!
//! - objects keep their key order (a `Vec` of pairs); a duplicate key keeps
//!   its first position and takes the last value, as Jackson binding into a
//!   `LinkedHashMap` does;
//! - numbers keep their original text (`1.50` stays `1.50`);
//! - strings are escaped the way Jackson's default `ObjectMapper` escapes
//!   them (see [`write_string`]).
//!
//! The parser is strict RFC 8259 JSON (what Jackson's defaults accept, minus
//! lone surrogates, which a Rust `String` cannot hold) with limits on input
//! size and nesting depth so that hostile input cannot exhaust memory or the
//! stack. It never panics.

use std::collections::HashMap;
use std::fmt;

/// Largest body accepted, in bytes (1 MiB). Real calls are well under 10 KiB.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest nesting of arrays/objects accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value that remembers key order and number text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number exactly as written in the input (already validated).
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Key/value pairs in input order, keys unique.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Compact Jackson-style serialisation.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Append the compact Jackson-style serialisation to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Write `s` as a JSON string literal exactly as Jackson's default
/// `ObjectMapper` does: `"` and `\` escaped; U+0008/9/A/C/D as `\b \t \n \f
/// \r`; other characters below U+0020 as `\u00XX` with upper-case hex;
/// everything else — DEL (U+007F), `/`, U+2028/2029, non-BMP — written raw.
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x09 => Some("\\t"),
            0x0A => Some("\\n"),
            0x0C => Some("\\f"),
            0x0D => Some("\\r"),
            0x00..=0x1F => Some(""),
            _ => None,
        };
        if let Some(esc) = esc {
            // `i` is at an ASCII byte, hence a char boundary.
            out.push_str(&s[start..i]);
            if esc.is_empty() {
                out.push_str("\\u00");
                out.push(HEX_UPPER[(b >> 4) as usize] as char);
                out.push(HEX_UPPER[(b & 0xF) as usize] as char);
            } else {
                out.push_str(esc);
            }
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Why a body is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    TooLarge {
        len: usize,
    },
    InvalidUtf8 {
        offset: usize,
    },
    TooDeep {
        offset: usize,
    },
    UnexpectedEnd,
    Unexpected {
        offset: usize,
        found: char,
    },
    InvalidNumber {
        offset: usize,
    },
    InvalidEscape {
        offset: usize,
    },
    /// An unescaped control character inside a string.
    ControlChar {
        offset: usize,
    },
    /// A `\uD8xx` without its pair (Rust strings cannot hold it).
    LoneSurrogate {
        offset: usize,
    },
    TrailingData {
        offset: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLarge { len } => write!(f, "body of {len} bytes exceeds the limit of {MAX_BYTES}"),
            ParseError::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at byte {offset}"),
            ParseError::TooDeep { offset } => write!(f, "nesting deeper than {MAX_DEPTH} at byte {offset}"),
            ParseError::UnexpectedEnd => write!(f, "unexpected end of input"),
            ParseError::Unexpected { offset, found } => write!(f, "unexpected {found:?} at byte {offset}"),
            ParseError::InvalidNumber { offset } => write!(f, "invalid number at byte {offset}"),
            ParseError::InvalidEscape { offset } => write!(f, "invalid escape at byte {offset}"),
            ParseError::ControlChar { offset } => write!(f, "unescaped control character at byte {offset}"),
            ParseError::LoneSurrogate { offset } => write!(f, "unpaired UTF-16 surrogate at byte {offset}"),
            ParseError::TrailingData { offset } => write!(f, "trailing data at byte {offset}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parse one JSON document from `bytes` (UTF-8, at most [`MAX_BYTES`],
/// nesting at most [`MAX_DEPTH`]). Surrounding whitespace is allowed;
/// anything else after the value is an error. A leading UTF-8 BOM is
/// rejected, as by strict JSON parsers.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    if bytes.len() > MAX_BYTES {
        return Err(ParseError::TooLarge { len: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::InvalidUtf8 { offset: e.valid_up_to() })?;
    let mut p = Parser { s: text, b: bytes, pos: 0 };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.b.len() {
        return Err(ParseError::TrailingData { offset: p.pos });
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn unexpected(&self) -> ParseError {
        match self.s.get(self.pos..).and_then(|r| r.chars().next()) {
            Some(found) => ParseError::Unexpected { offset: self.pos, found },
            None => ParseError::UnexpectedEnd,
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.unexpected())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(ParseError::UnexpectedEnd),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '{'
        let mut pairs: Vec<(String, Value)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(pairs));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let v = self.value(depth)?;
            match index.get(&key) {
                // Duplicate: LinkedHashMap.put keeps the first position.
                Some(&i) => pairs[i].1 = v,
                None => {
                    index.insert(key.clone(), pairs.len());
                    pairs.push((key, v));
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(pairs));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let bad = ParseError::InvalidNumber { offset: start };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                // Leading zeros are not JSON (and Jackson rejects them).
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(bad);
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(bad),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        // All bytes consumed are ASCII, so these are char boundaries.
        Ok(Value::Number(self.s[start..self.pos].to_owned()))
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let offset = self.pos;
        let digits = self.b.get(self.pos..self.pos + 4).ok_or(ParseError::UnexpectedEnd)?;
        let mut v: u16 = 0;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or(ParseError::InvalidEscape { offset })?;
            v = (v << 4) | n as u16;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(b) = self.peek() else { return Err(ParseError::UnexpectedEnd) };
            match b {
                b'"' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.pos]);
                    let esc_at = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else { return Err(ParseError::UnexpectedEnd) };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{C}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape(esc_at)?),
                        _ => return Err(ParseError::InvalidEscape { offset: esc_at }),
                    }
                    run = self.pos;
                }
                0x00..=0x1F => return Err(ParseError::ControlChar { offset: self.pos }),
                // Multi-byte UTF-8 sequences never contain bytes < 0x80,
                // so stepping byte by byte only stops at char boundaries.
                _ => self.pos += 1,
            }
        }
    }

    /// After `\u`: one code unit, or a surrogate pair `\uD8xx\uDCxx`.
    fn unicode_escape(&mut self, esc_at: usize) -> Result<char, ParseError> {
        let hi = self.hex4()?;
        match hi {
            0xD800..=0xDBFF => {
                if self.b.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(ParseError::LoneSurrogate { offset: esc_at });
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(ParseError::LoneSurrogate { offset: esc_at });
                }
                let c = 0x10000 + (((hi as u32) - 0xD800) << 10) + ((lo as u32) - 0xDC00);
                char::from_u32(c).ok_or(ParseError::LoneSurrogate { offset: esc_at })
            }
            0xDC00..=0xDFFF => Err(ParseError::LoneSurrogate { offset: esc_at }),
            _ => char::from_u32(hi as u32).ok_or(ParseError::InvalidEscape { offset: esc_at }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        let mut o = String::new();
        write_string(&mut o, x);
        o
    }

    #[test]
    fn escapes_like_jackson() {
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("\u{8}\t\n\u{C}\r"), r#""\b\t\n\f\r""#);
        assert_eq!(s("\u{0}\u{1}\u{1F}\u{B}"), r#""\u0000\u0001\u001F\u000B""#);
        assert_eq!(s("\u{7F}"), "\"\u{7F}\"");
        assert_eq!(s("a/b</script>"), "\"a/b</script>\"");
        assert_eq!(s("\u{2028}\u{2029}"), "\"\u{2028}\u{2029}\"");
        assert_eq!(s("😀中"), "\"😀中\"");
        assert_eq!(s("\u{1A}\u{1b}"), r#""\u001A\u001B""#);
    }

    #[test]
    fn keeps_order_numbers_and_last_duplicate() {
        let v = parse(br#"{"b":1.50,"a":-0,"b":2E+3,"c":[true,false,null]}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"b":2E+3,"a":-0,"c":[true,false,null]}"#);
    }

    #[test]
    fn decodes_escapes() {
        let v = parse(br#""\u00e9\ud83d\ude00\/\"""#).unwrap();
        assert_eq!(v, Value::String("é😀/\"".into()));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":1,}",
            b"[1,]",
            b"01",
            b"1.",
            b"-",
            b"1e",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"\\ud800\\u0041\"",
            b"\"a\nb\"",
            b"\"\\x\"",
            b"{} x",
            b"\xff",
            b"\xef\xbb\xbf{}",
            b"NaN",
            b"'a'",
            b"{a:1}",
            b"tru",
        ] {
            assert!(parse(bad).is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn limits() {
        let deep_ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(deep_ok.as_bytes()).is_ok());
        let too_deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(too_deep.as_bytes()), Err(ParseError::TooDeep { .. })));
        let huge = vec![b' '; MAX_BYTES + 1];
        assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
        let very_deep = "[".repeat(100_000);
        assert!(parse(very_deep.as_bytes()).is_err());
    }
}
