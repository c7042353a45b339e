//! The CSV form of a statement: a header row, then one row per line, with free text neutralised
//! so a spreadsheet never runs it as a formula.

use std::borrow::Cow;

use coffre_app::ports::StatementLine;

use crate::dto::statement::StatementLineDto;

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 8] = [
    "entry_id",
    "booked_at",
    "transaction_id",
    "type",
    "label",
    "direction",
    "amount",
    "balance_after",
];

/// Characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
/// return, that some spreadsheets skip before looking for one): OWASP's CSV injection list.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Free text as a CSV cell that no spreadsheet evaluates: text starting with a formula
/// character gets a leading `'`, which spreadsheets read as "this is text" and do not show.
/// Only text a customer or a peer wrote goes through here: Coffre's own numbers (a negative
/// balance is `-12.50`) stay numbers.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The cells of one line, in [`CSV_HEADER`] order; amounts are decimal strings in the
/// account's currency.
pub fn row(line: &StatementLine) -> [String; 8] {
    let dto = StatementLineDto::from(line);
    [
        dto.entry_id.to_string(),
        dto.booked_at,
        dto.transaction_id.to_string(),
        line.transaction_type.as_str().to_owned(),
        dto.label
            .as_deref()
            .map(neutralise)
            .unwrap_or_default()
            .into_owned(),
        line.direction.as_str().to_owned(),
        dto.amount.amount,
        dto.balance_after.amount,
    ]
}

/// Records encoded as CSV (RFC 4180 quoting by the `csv` crate), appended to `out`.
pub fn write_records<I, R>(records: I, out: Vec<u8>) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut writer = csv::Writer::from_writer(out);
    for record in records {
        writer.write_record(record)?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_other_text_is_kept() {
        for text in ["=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(text), format!("'{text}"));
        }
        for text in ["Refund", "", "'already", " =spaced"] {
            assert_eq!(neutralise(text), text);
        }
    }
}
