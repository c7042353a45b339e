use time::macros::datetime;

use super::*;

fn transaction_row(id: Uuid) -> TransactionRow {
    TransactionRow {
        id,
        transaction_type: "DEPOSIT".to_owned(),
        status: "COMPLETED".to_owned(),
        amount_minor: 1_000,
        currency: "EUR".to_owned(),
        source_account_id: None,
        destination_account_id: Some(Uuid::now_v7()),
        counterparty_iban: None,
        label: Some("cash".to_owned()),
        reverses_id: None,
        reversed_by_id: None,
        hold_id: None,
        created_at: datetime!(2026-01-01 10:00 UTC),
        completed_at: Some(datetime!(2026-01-01 10:00 UTC)),
    }
}

fn posting_row(transaction_id: Uuid, entry_id: i64, account_id: Uuid) -> PostingRow {
    PostingRow {
        entry_id,
        transaction_id,
        account_id,
        direction: if entry_id % 2 == 0 { "CREDIT" } else { "DEBIT" }.to_owned(),
        amount_minor: 1_000,
        currency: "EUR".to_owned(),
        balance_after_minor: 1_000,
    }
}

#[test]
fn transactions_are_assembled_with_their_postings_in_order() -> Result<(), StoreError> {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let cash = InternalAccount {
        kind: InternalKind::Cash,
        currency: Currency::EUR,
    };
    let customer = Uuid::now_v7();
    let postings = vec![
        posting_row(b, 3, cash.id()),
        posting_row(a, 1, cash.id()),
        posting_row(a, 2, customer),
    ];
    let transactions =
        transactions_from_rows(vec![transaction_row(a), transaction_row(b)], postings)?;
    assert_eq!(transactions.len(), 2);
    let first = transactions.first().ok_or(StoreError::NotFound)?;
    assert_eq!(first.id, TransactionId(a));
    let accounts: Vec<LedgerAccount> = first.postings.iter().map(|p| p.account).collect();
    assert_eq!(
        accounts,
        [
            LedgerAccount::Internal(cash),
            LedgerAccount::Customer(AccountId(customer))
        ]
    );
    assert!(first.is_balanced());
    Ok(())
}

#[test]
fn a_hash_of_the_wrong_length_is_corrupt() {
    let row = EventRow {
        sequence: 7,
        stream_id: Uuid::now_v7(),
        stream_version: 1,
        event_type: "AccountClosed".to_owned(),
        payload: "{}".to_owned(),
        actor: "system".to_owned(),
        occurred_at: datetime!(2026-01-01 10:00 UTC),
        prev_hash: vec![0; 32],
        hash: vec![0; 31],
    };
    assert!(matches!(
        EventRecord::try_from(row),
        Err(StoreError::Unknown(error)) if error.to_string() == "events row 7 has an invalid hash"
    ));
}

#[test]
fn an_internal_account_row_must_carry_its_own_id() {
    let row = InternalAccountRow {
        id: Uuid::now_v7(),
        kind: "cash".to_owned(),
        currency: "EUR".to_owned(),
        balance_minor: 0,
    };
    assert!(<(InternalAccount, i64)>::try_from(row).is_err());
}
