//! CSV exports (RFC 4180: every text field quoted, CRLF line ends, a header
//! row). Text a spreadsheet would run as a formula is defused; numbers are
//! written bare so a spreadsheet reads them as numbers (a clawback's `-9900`
//! stays a number).

/// A quoted text field. Text starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'`.
pub fn text(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// An integer field, bare.
pub fn number(value: i64) -> String {
    value.to_string()
}

/// Appends one record of already formatted fields.
pub fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&f);
    }
    out.push_str("\r\n");
}

/// A header row.
pub fn header(names: &[&str]) -> String {
    let mut out = String::new();
    push_row(&mut out, names.iter().map(|n| text(n)));
    out
}

/// `minor` in major units with the currency's digits (`-99.00`, `1200`).
pub fn major(minor: i64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_quoted_and_guarded() {
        assert_eq!(text("plain"), "\"plain\"");
        assert_eq!(text("a \"b\", c\nd"), "\"a \"\"b\"\", c\nd\"");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for bad in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(text(bad).starts_with("\"'"), "{bad}");
        }
        assert_eq!(text(""), "\"\"");
    }

    #[test]
    fn numbers_stay_numbers() {
        let mut row = String::new();
        push_row(&mut row, [text("x"), number(-9900), major(-9900, 2), major(5, 2), major(1200, 0)]);
        assert_eq!(row, "\"x\",-9900,-99.00,0.05,1200\r\n");
        assert_eq!(major(i64::MIN, 2), "-92233720368547758.08");
    }
}
