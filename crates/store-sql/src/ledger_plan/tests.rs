use coffre_domain::events::{GENESIS_HASH, verify_chain};
use coffre_domain::ledger::{LedgerPolicy, apply};
use coffre_domain::{AccountStatus, AccountType, Bic, CustomerId, FrenchRib, Money};
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-03-02 10:00:00.123_456_789 UTC);

fn account(number: &str, balance_minor: i64) -> anyhow::Result<Account> {
    let created_at = datetime!(2026-03-01 10:00 UTC);
    Ok(Account {
        id: AccountId(Uuid::now_v7()),
        customer_id: CustomerId(Uuid::now_v7()),
        iban: FrenchRib::new("99999", "00001", number)?.to_iban(),
        bic: Bic::parse("COFRFRPPXXX")?,
        account_type: AccountType::Courant,
        status: AccountStatus::Active,
        currency: Currency::EUR,
        nickname: None,
        status_reason: None,
        balance_minor,
        overdraft_limit_minor: 0,
        daily_limit_minor: None,
        outgoing_today_minor: 0,
        outgoing_day: None,
        version: 1,
        created_at,
        updated_at: created_at,
        closed_at: None,
    })
}

fn eur(minor: i64) -> anyhow::Result<Money> {
    Ok(Money::from_minor(minor, Currency::EUR)?)
}

fn state_of(accounts: &[&Account]) -> LedgerState {
    let mut state = LedgerState::default();
    for account in accounts {
        state.accounts.insert(account.id, (*account).clone());
    }
    for internal in internal_accounts_of(&state_currencies(&state)) {
        state.internal.insert(internal, 0);
    }
    state
}

#[test]
fn a_batch_names_its_accounts_holds_originals_and_currencies() -> anyhow::Result<()> {
    let (a, b) = (AccountId(Uuid::now_v7()), AccountId(Uuid::now_v7()));
    let hold = HoldId(Uuid::now_v7());
    let original = TransactionId(Uuid::now_v7());
    let command = |request| LedgerCommand {
        id: Uuid::now_v7(),
        request,
    };
    let commands = [
        command(LedgerRequest::Transfer {
            source: b,
            destination: a,
            amount: eur(100)?,
            label: None,
            counterparty_iban: None,
        }),
        command(LedgerRequest::ReleaseHold { hold }),
        command(LedgerRequest::Reverse {
            original,
            label: None,
        }),
    ];
    let touched = touched(&commands);
    assert_eq!(touched.accounts, BTreeSet::from([a, b]));
    assert_eq!(touched.holds, BTreeSet::from([hold]));
    assert_eq!(touched.originals, BTreeSet::from([original]));
    assert_eq!(touched.currencies, BTreeSet::from([Currency::EUR]));
    Ok(())
}

#[test]
fn internal_accounts_are_locked_in_id_order() {
    let accounts = internal_accounts_of(&BTreeSet::from([Currency::EUR, Currency::USD]));
    assert_eq!(accounts.len(), 6);
    assert!(accounts.windows(2).all(|w| w[0].id() < w[1].id()));
}

#[test]
fn the_diff_holds_what_apply_changed_in_booking_order() -> anyhow::Result<()> {
    let a = account("00000000001", 10_000)?;
    let b = account("00000000002", 0)?;
    let untouched = account("00000000003", 0)?;
    let before = state_of(&[&a, &b, &untouched]);
    let mut after = before.clone();
    // Ids in reverse order of booking: the diff must still follow the commands.
    let (second, first) = (Uuid::now_v7(), Uuid::now_v7());
    let commands = [
        LedgerCommand {
            id: first,
            request: LedgerRequest::Deposit {
                account: a.id,
                amount: eur(500)?,
                label: None,
            },
        },
        LedgerCommand {
            id: second,
            request: LedgerRequest::Transfer {
                source: a.id,
                destination: b.id,
                amount: eur(300)?,
                label: None,
                counterparty_iban: None,
            },
        },
    ];
    let results = apply(&mut after, &commands, &LedgerPolicy::default(), NOW);
    assert!(results.iter().all(Result::is_ok));
    let diff = ledger_diff(&before, &after, &results)?;
    let updated: BTreeSet<AccountId> = diff.accounts.iter().map(|u| u.after.id).collect();
    assert_eq!(updated, BTreeSet::from([a.id, b.id]));
    assert!(diff.accounts.iter().all(|u| u.before_version == 1));
    assert!(
        diff.accounts
            .iter()
            .all(|u| u.after.updated_at.nanosecond() % 1_000 == 0)
    );
    let booked: Vec<Uuid> = diff.new_transactions.iter().map(|t| t.id.0).collect();
    assert_eq!(booked, [first, second]);
    assert_eq!(diff.internal.len(), 1);
    assert!(diff.changed_transactions.is_empty() && diff.new_holds.is_empty());
    assert!(ledger_diff(&before, &before, &Vec::new())?.is_empty());
    Ok(())
}

#[test]
fn a_refused_atomic_batch_is_discarded_and_only_accepted_events_are_kept() -> anyhow::Result<()> {
    let a = account("00000000004", 0)?;
    let mut state = state_of(&[&a]);
    let commands = [
        LedgerCommand {
            id: Uuid::now_v7(),
            request: LedgerRequest::Deposit {
                account: a.id,
                amount: eur(100)?,
                label: None,
            },
        },
        LedgerCommand {
            id: Uuid::now_v7(),
            request: LedgerRequest::Withdrawal {
                account: a.id,
                amount: eur(1_000)?,
                label: None,
            },
        },
    ];
    let results = apply(&mut state, &commands, &LedgerPolicy::default(), NOW);
    assert!(discards(true, &results));
    assert!(!discards(false, &results));
    assert_eq!(events_of(&results).len(), 1);
    Ok(())
}

#[test]
fn stream_versions_continue_each_stream() {
    let (x, y) = (AccountId(Uuid::now_v7()), AccountId(Uuid::now_v7()));
    let events = [
        Event::AccountClosed { account_id: x },
        Event::AccountActivated { account_id: y },
        Event::AccountClosed { account_id: x },
    ];
    let events = attributed(&events, Actor::System);
    let current = BTreeMap::from([(x.0, 4)]);
    assert_eq!(stream_versions(&events, &current), [5, 1, 6]);
    assert_eq!(streams_of(&events), BTreeSet::from([x.0, y.0]));
}

#[test]
fn chained_events_verify_and_move_the_head() -> anyhow::Result<()> {
    let x = AccountId(Uuid::now_v7());
    let events = [
        Event::AccountActivated { account_id: x },
        Event::AccountClosed { account_id: x },
    ];
    let genesis = ChainHead {
        last_sequence: 0,
        last_hash: GENESIS_HASH,
    };
    let (records, head) = chain_events(
        genesis,
        &attributed(&events, Actor::System),
        &BTreeMap::new(),
        NOW,
    )?;
    assert_eq!(head.last_sequence, 2);
    assert_eq!(
        records.iter().map(|r| r.stream_version).collect::<Vec<_>>(),
        [1, 2]
    );
    let verified = verify_chain(GENESIS_HASH, 1, &records);
    assert_eq!(verified, Ok((head.last_hash, 3)));
    assert!(records.iter().all(|r| r.occurred_at == stored_instant(NOW)));
    Ok(())
}
