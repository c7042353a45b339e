//! The monthly statement as a PDF: A4 pages of at most [`LINES_PER_PAGE`] lines, each with a
//! header naming the bank, the account, its IBAN and the month; the opening balance on the
//! first page and the closing balance and totals on the last.
//!
//! Written with `pdf-writer` (see `docs/adr/0008-statement-pdf.md`) and the standard Helvetica
//! fonts every reader ships, so no font is embedded and the file stays small.

use coffre_app::ports::StatementLine;
use coffre_app::statements::Statement;
use coffre_domain::ledger::Direction;
use coffre_domain::{Currency, Money};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// Statement lines per page.
pub const LINES_PER_PAGE: usize = 40;

// Layout in whole points (integers: the workspace keeps floating point out of arithmetic).
const PAGE_WIDTH: i16 = 595;
const PAGE_HEIGHT: i16 = 842;
const MARGIN: i16 = 40;
const LINE_HEIGHT: i16 = 15;
const ROW_HEIGHT: i16 = 12;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Left edges of the columns: date, type, label, debit, credit, balance (the amounts are
/// right-aligned on the next column's edge, approximately).
const COLUMNS: [i16; 6] = [MARGIN, 100, 185, 360, 435, 510];

/// Who issues the statement, for its header.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    /// The bank's name.
    pub name: &'a str,
    /// The bank's BIC.
    pub bic: &'a str,
}

/// Renders the statement as a PDF document.
pub fn render(statement: &Statement, issuer: Issuer<'_>) -> Vec<u8> {
    let pages: Vec<&[StatementLine]> = if statement.lines.is_empty() {
        vec![&[]]
    } else {
        statement.lines.chunks(LINES_PER_PAGE).collect()
    };
    let mut pdf = Pdf::new();
    let (catalog, tree, regular, bold) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let page_refs: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let base = 5 + 2 * i32::try_from(i).unwrap_or(i32::MAX / 2 - 5);
            (Ref::new(base), Ref::new(base + 1))
        })
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let total = pages.len();
    for (index, (lines, (page_id, content_id))) in pages.iter().zip(&page_refs).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(
            0.0,
            0.0,
            f32::from(PAGE_WIDTH),
            f32::from(PAGE_HEIGHT),
        ))
        .parent(tree)
        .contents(*content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();
        let position = PagePosition {
            number: index + 1,
            total,
        };
        let content = page_content(statement, issuer, lines, position);
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// Which page of how many.
#[derive(Debug, Clone, Copy)]
struct PagePosition {
    number: usize,
    total: usize,
}

/// Writes text at a position.
struct Writer {
    content: Content,
}

impl Writer {
    fn text(&mut self, font: Name<'_>, size: u8, x: i16, y: i16, text: &str) {
        let encoded = win_ansi(text);
        self.content
            .begin_text()
            .set_font(font, f32::from(size))
            .next_line(f32::from(x), f32::from(y))
            .show(Str(&encoded))
            .end_text();
    }

    /// Text whose right edge is at `right` (Helvetica digits are 0.556 em wide; good enough
    /// for amounts, which are digits, a dot, a sign and a currency code).
    fn right(&mut self, font: Name<'_>, size: u8, right: i16, y: i16, text: &str) {
        let chars = i32::try_from(text.chars().count()).unwrap_or(i32::MAX);
        let width = chars.saturating_mul(i32::from(size)).saturating_mul(556) / 1000;
        let x = i16::try_from(i32::from(right).saturating_sub(width)).unwrap_or(MARGIN);
        self.text(font, size, x, y, text);
    }

    fn rule(&mut self, y: i16) {
        self.content
            .set_line_width(0.5)
            .move_to(f32::from(MARGIN), f32::from(y))
            .line_to(f32::from(PAGE_WIDTH - MARGIN), f32::from(y))
            .stroke();
    }
}

fn page_content(
    statement: &Statement,
    issuer: Issuer<'_>,
    lines: &[StatementLine],
    position: PagePosition,
) -> Content {
    let mut w = Writer {
        content: Content::new(),
    };
    let currency = statement.summary.account.currency;
    let mut y = PAGE_HEIGHT - MARGIN - 10;
    w.text(BOLD, 16, MARGIN, y, issuer.name);
    w.right(
        REGULAR,
        9,
        PAGE_WIDTH - MARGIN,
        y,
        &format!("Page {} / {}", position.number, position.total),
    );
    y -= 20;
    w.text(
        BOLD,
        11,
        MARGIN,
        y,
        &format!("Account statement - {}", statement.summary.month),
    );
    y -= LINE_HEIGHT;
    let account = &statement.summary.account;
    let holder = match &account.nickname {
        Some(nickname) => format!("Account {} ({nickname})", account.id),
        None => format!("Account {}", account.id),
    };
    w.text(REGULAR, 9, MARGIN, y, &holder);
    y -= ROW_HEIGHT;
    w.text(
        REGULAR,
        9,
        MARGIN,
        y,
        &format!(
            "IBAN {}   BIC {}   Currency {}",
            account.iban.electronic(),
            issuer.bic,
            currency.code()
        ),
    );
    y -= LINE_HEIGHT;
    if position.number == 1 {
        w.text(
            BOLD,
            9,
            MARGIN,
            y,
            &format!(
                "Opening balance: {}",
                amount(statement.summary.opening_minor, currency)
            ),
        );
        y -= LINE_HEIGHT;
    }
    y -= 4;
    let headings = ["Date", "Type", "Label", "Debit", "Credit", "Balance"];
    for (heading, x) in headings.iter().zip(COLUMNS) {
        w.text(BOLD, 8, x, y, heading);
    }
    y -= 4;
    w.rule(y);
    y -= ROW_HEIGHT;
    for line in lines {
        write_line(&mut w, line, currency, y);
        y -= ROW_HEIGHT;
    }
    if position.number == position.total {
        y -= 4;
        w.rule(y + 8);
        let totals = format!(
            "Total debits: {}   Total credits: {}",
            amount(statement.summary.total_debits_minor, currency),
            amount(statement.summary.total_credits_minor, currency)
        );
        w.text(REGULAR, 9, MARGIN, y - 4, &totals);
        w.text(
            BOLD,
            9,
            MARGIN,
            y - 4 - LINE_HEIGHT,
            &format!(
                "Closing balance: {}",
                amount(statement.summary.closing_minor, currency)
            ),
        );
    }
    w.content
}

fn write_line(w: &mut Writer, line: &StatementLine, currency: Currency, y: i16) {
    let date = line.booked_at.date();
    w.text(
        REGULAR,
        8,
        COLUMNS[0],
        y,
        &format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
    );
    w.text(REGULAR, 8, COLUMNS[1], y, line.transaction_type.as_str());
    let label: String = line
        .label
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(38)
        .collect();
    w.text(REGULAR, 8, COLUMNS[2], y, &label);
    let text = line.amount.to_decimal_string();
    let column = match line.direction {
        Direction::Debit => COLUMNS[4] - 8,
        Direction::Credit => COLUMNS[5] - 8,
    };
    w.right(REGULAR, 8, column, y, &text);
    w.right(
        REGULAR,
        8,
        PAGE_WIDTH - MARGIN,
        y,
        &amount(line.balance_after_minor, currency),
    );
}

/// `1234.56 EUR`.
fn amount(minor: i64, currency: Currency) -> String {
    let text = Money::from_minor(minor, currency)
        .map(|m| m.to_decimal_string())
        .unwrap_or_else(|_| minor.to_string());
    format!("{text} {}", currency.code())
}

/// Text in the fonts' WinAnsi encoding: ASCII and Latin-1 as themselves, the euro sign as
/// 0x80, anything else as `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '\u{20ac}' => 0x80,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(win_ansi("Café 5€\u{1F600}"), b"Caf\xe9 5\x80?".to_vec());
    }
}
