//! An invoice or credit note as a PDF: A4, the base-14 Helvetica fonts
//! (nothing embedded), uncompressed content streams, written with
//! `pdf-writer`. No IO: [`render`] turns a [`Document`] into bytes.
//!
//! The base-14 fonts draw WinAnsi (Latin-1 and a few more) characters
//! only: any other character (a Chinese title, say) is drawn as `?`. The
//! exact text stays in the database and the JSON views.
//!
//! Lines flow onto further pages when one is full.

use mercato_domain::invoicing::InvoiceDocument;
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

/// What a document shows; amounts are signed as printed (negative on a
/// credit note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: InvoiceDocument,
    pub number: String,
    /// `YYYY-MM-DD`.
    pub issue_date: String,
    /// On a credit note: the number of the invoice it cancels.
    pub cancels: Option<String>,
    pub issuer_name: String,
    pub issuer_tax_id: Option<String>,
    pub title: String,
    pub tax_id: String,
    pub address: String,
    pub order_id: String,
    pub currency: String,
    pub lines: Vec<Line>,
    pub total_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub description: String,
    pub sku_code: String,
    pub amount_minor: i64,
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = 545.0;
const TOP: f32 = 790.0;
const BOTTOM: f32 = 60.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const SIZE: f32 = 10.0;
const LEADING: f32 = 14.0;
const SKU_X: f32 = 370.0;

/// `amount` in minor units as a decimal in the currency's unit: `-500.00`.
pub fn format_minor(amount: i64, currency: &str) -> String {
    let exp = mercato_domain::money::exponent(currency).unwrap_or(2);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs}");
    }
    let unit = 10u64.pow(exp);
    format!("{sign}{}.{:0width$}", abs / unit, abs % unit, width = exp as usize)
}

/// A rate in basis points as a percentage: `6%`, `6.5%`, `13.25%`.
pub fn format_rate(bp: i64) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

/// One WinAnsi byte for `c`: printable ASCII and Latin-1 as they are, the
/// typographic extras WinAnsi holds at 0x80-0x9F, white space as a space,
/// anything else `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '\t' | '\n' | '\r' => b' ',
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201c}' => 0x93,
        '\u{201d}' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => b'?',
    }
}

/// Helvetica's advance widths (1/1000 em) of the printable ASCII
/// characters (from its AFM); others are taken as 556.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space - /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // : - @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [ - `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a-z
    334, 260, 334, 584, // { - ~
];

/// The width of `bytes` at `size` points (regular Helvetica; near enough
/// for the bold face, whose digits are as wide).
fn width(bytes: &[u8], size: f32) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|&b| if (32..=126).contains(&b) { u32::from(HELVETICA_WIDTHS[usize::from(b - 32)]) } else { 556 })
        .sum();
    units as f32 * size / 1000.0
}

/// `text` as WinAnsi lines no wider than `max` points, broken at spaces
/// (a longer word is cut).
fn wrap(text: &str, size: f32, max: f32) -> Vec<Vec<u8>> {
    let bytes: Vec<u8> = text.chars().map(win_ansi).collect();
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for &b in word {
            line.push(b);
            if width(&line, size) > max {
                let last = line.pop().expect("just pushed");
                lines.push(std::mem::replace(&mut line, vec![last]));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being filled top to bottom.
struct Pages {
    done: Vec<Content>,
    page: Content,
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages { done: Vec::new(), page: Content::new(), y: TOP }
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.done.push(std::mem::replace(&mut self.page, Content::new()));
            self.y = TOP;
        }
    }

    fn show(&mut self, font: Name, size: f32, x: f32, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.page.begin_text();
        self.page.set_font(font, size);
        self.page.next_line(x, self.y);
        self.page.show(Str(bytes));
        self.page.end_text();
    }

    /// One line of text at `x`, then down a line.
    fn text(&mut self, font: Name, size: f32, x: f32, text: &str) {
        self.room(LEADING);
        let bytes: Vec<u8> = text.chars().map(win_ansi).collect();
        self.show(font, size, x, &bytes);
        self.y -= LEADING.max(size * 1.3);
    }

    /// `label` then `value` wrapped beside it.
    fn field(&mut self, label: &str, value: &str) {
        let indent = LEFT + 95.0;
        let lines = wrap(value, SIZE, RIGHT - indent);
        for (i, l) in lines.iter().enumerate() {
            self.room(LEADING);
            if i == 0 {
                self.show(BOLD, SIZE, LEFT, label.as_bytes());
            }
            self.show(REGULAR, SIZE, indent, l);
            self.y -= LEADING;
        }
    }

    /// A table row: the description wrapped in its column, the SKU, the
    /// amount right-aligned.
    fn row(&mut self, font: Name, description: &str, sku: &str, amount: &str) {
        let desc = wrap(description, SIZE, SKU_X - LEFT - 10.0);
        let sku = wrap(sku, SIZE, 95.0);
        let rows = desc.len().max(sku.len());
        self.room(LEADING * rows as f32);
        for i in 0..rows {
            if let Some(d) = desc.get(i) {
                self.show(font, SIZE, LEFT, d);
            }
            if let Some(s) = sku.get(i) {
                self.show(font, SIZE, SKU_X, s);
            }
            if i == 0 {
                let a: Vec<u8> = amount.bytes().collect();
                self.show(font, SIZE, RIGHT - width(&a, SIZE), &a);
            }
            self.y -= LEADING;
        }
    }

    fn rule(&mut self) {
        self.room(8.0);
        let y = self.y + LEADING - 4.0;
        self.page.set_line_width(0.5);
        self.page.move_to(LEFT, y);
        self.page.line_to(RIGHT, y);
        self.page.stroke();
        self.y -= 4.0;
    }

    fn gap(&mut self) {
        self.y -= LEADING / 2.0;
    }

    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.page);
        self.done
    }
}

fn heading(kind: InvoiceDocument) -> &'static str {
    match kind {
        InvoiceDocument::Invoice => "INVOICE",
        InvoiceDocument::CreditNote => "CREDIT NOTE",
    }
}

/// The document's PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut p = Pages::new();
    p.text(BOLD, 20.0, LEFT, heading(doc.kind));
    p.gap();
    p.field("Number:", &doc.number);
    p.field("Issue date:", &doc.issue_date);
    if let Some(cancelled) = &doc.cancels {
        p.field("Cancels invoice:", cancelled);
    }
    p.field("Order:", &doc.order_id);
    p.field("Currency:", &doc.currency);
    p.gap();
    p.field("Issuer:", &doc.issuer_name);
    if let Some(t) = &doc.issuer_tax_id {
        p.field("Issuer tax id:", t);
    }
    p.gap();
    p.field("Bill to:", &doc.title);
    p.field("Tax id:", &doc.tax_id);
    p.field("Address:", &doc.address);
    p.gap();
    p.row(BOLD, "Description", "SKU", &format!("Amount ({})", doc.currency));
    p.rule();
    for l in &doc.lines {
        p.row(REGULAR, &l.description, &l.sku_code, &format_minor(l.amount_minor, &doc.currency));
    }
    p.rule();
    p.row(BOLD, &format!("Total ({})", doc.currency), "", &format_minor(doc.total_minor, &doc.currency));
    p.row(REGULAR, &format!("Tax rate: {}", format_rate(doc.tax_rate_bp)), "", "");
    p.row(REGULAR, "Tax contained", "", &format_minor(doc.tax_minor, &doc.currency));
    p.gap();
    p.text(REGULAR, 8.0, LEFT, "Amounts include tax.");
    write(doc, p.finish())
}

/// The file: catalog, page tree, pages, the two fonts, the info dictionary.
fn write(doc: &Document, pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(first + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    for (i, content) in pages.into_iter().enumerate() {
        let (page_id, content_id) = (page_ids[i], Ref::new(first + 2 * i as i32 + 1));
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree).contents(content_id);
        page.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        drop(page);
        pdf.stream(content_id, &content.finish());
    }
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("{} {}", heading(doc.kind), doc.number);
    pdf.document_info(info).title(TextStr(&title)).producer(TextStr("Mercato"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        Document {
            kind: InvoiceDocument::Invoice,
            number: "INV-2026-000001".into(),
            issue_date: "2026-12-03".into(),
            cancels: None,
            issuer_name: "Mercato".into(),
            issuer_tax_id: None,
            title: "云数据 GmbH".into(),
            tax_id: "DE123456789".into(),
            address: "Unter den Linden 1, Berlin ".repeat(20),
            order_id: "CS2612030000000001".into(),
            currency: "CNY".into(),
            lines: vec![Line { description: "A database".into(), sku_code: "std".into(), amount_minor: 50_000 }],
            total_minor: 50_000,
            tax_rate_bp: 600,
            tax_minor: 2_830,
        }
    }

    #[test]
    fn amounts_and_rates_print_in_units() {
        assert_eq!(format_minor(50_000, "CNY"), "500.00");
        assert_eq!(format_minor(-5, "CNY"), "-0.05");
        assert_eq!(format_minor(1_234, "JPY"), "1234");
        assert_eq!(
            (format_rate(600), format_rate(650), format_rate(1325), format_rate(0)),
            ("6%".into(), "6.5%".into(), "13.25%".into(), "0%".into())
        );
    }

    #[test]
    fn characters_outside_win_ansi_are_question_marks() {
        let bytes: Vec<u8> = "Zürich 云 €\n".chars().map(win_ansi).collect();
        assert_eq!(bytes, b"Z\xfcrich ? \x80 ");
    }

    #[test]
    fn long_text_wraps_inside_its_width() {
        let lines = wrap(&"word ".repeat(200), SIZE, 300.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| width(l, SIZE) <= 300.0));
        let long = wrap(&"x".repeat(500), SIZE, 100.0);
        assert!(long.iter().all(|l| width(l, SIZE) <= 100.0) && long.concat().len() == 500);
        assert_eq!(wrap("", SIZE, 100.0), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn a_document_is_a_pdf_with_its_text_uncompressed() {
        let bytes = render(&sample());
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("(INV-2026-000001)") && text.contains("(??? GmbH)") && text.contains("(500.00)"));
        assert!(text.contains("/WinAnsiEncoding") && !text.contains("/FlateDecode"));
        // Many lines flow onto a second page.
        let mut many = sample();
        many.lines =
            (0..80).map(|i| Line { description: format!("line {i}"), sku_code: "s".into(), amount_minor: 1 }).collect();
        let text = String::from_utf8_lossy(&render(&many)).to_string();
        assert!(text.contains("/Count 2"), "two pages");
    }
}
