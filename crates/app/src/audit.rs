//! Audit use cases: reading the event log, re-checking its hash chain, the trial balance, and
//! replaying the log to compare it with the live balances and statuses.
//!
//! Only auditors and admins may use them (403 for anyone else): the log names every actor.

use std::collections::BTreeMap;

use coffre_domain::events::{Event, EventRecord, GENESIS_HASH, verify_chain};
use coffre_domain::ledger::{InternalAccount, LedgerAccount};
use coffre_domain::{AccountId, AccountStatus, Currency, Role, UserId};
use uuid::Uuid;

use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::ports::{Clock, EventFilter, LiveState, PasswordHasher, Storage};
use crate::{AppError, Principal, Service};

/// How many events the chain check and the replay read at a time.
const CHUNK: u32 = 1_000;

/// The caller a command-line tool acts as: an auditor that is no stored user.
pub fn system_auditor() -> Principal {
    Principal {
        user_id: UserId(Uuid::nil()),
        role: Role::Auditor,
        customer_id: None,
    }
}

/// Refuses anyone but auditors and admins, with 403.
fn require_auditor(caller: &Principal) -> Result<(), AppError> {
    if matches!(caller.role, Role::Auditor | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A validated request for a page of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Which events.
    pub filter: EventFilter,
    /// The opaque cursor of the previous page (the last sequence it showed).
    pub cursor: Option<String>,
    /// The page size (1..=100, default 20).
    pub limit: Option<u32>,
}

/// One page of events, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events.
    pub items: Vec<EventRecord>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// What the hash-chain check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    /// True when every event checks out.
    pub ok: bool,
    /// How many events checked out (those before the first broken one).
    pub events_checked: i64,
    /// The sequence of the first event that does not check out.
    pub first_broken: Option<i64>,
}

/// The trial balance of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyBalance {
    /// The currency.
    pub currency: Currency,
    /// The sum of all customer balances, in minor units.
    pub customer_accounts_minor: i64,
    /// Each internal account and its balance, in minor units.
    pub internal_accounts: Vec<(InternalAccount, i64)>,
    /// Customer plus internal balances: zero in a sound ledger.
    pub total_minor: i64,
}

/// Which property of an account differs between the live tables and the replayed log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchField {
    /// The account exists on one side only.
    Existence,
    /// Its status.
    Status,
    /// Its balance.
    Balance,
}

impl MismatchField {
    /// The field's name, as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            MismatchField::Existence => "existence",
            MismatchField::Status => "status",
            MismatchField::Balance => "balance_minor",
        }
    }
}

/// One difference between the live state and the replayed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The account (customer or internal).
    pub account: LedgerAccount,
    /// What differs.
    pub field: MismatchField,
    /// What the live tables say.
    pub live: String,
    /// What the replayed log says.
    pub replayed: String,
}

impl Mismatch {
    /// The account as reports name it: its id, or an internal account's name.
    pub fn account_label(&self) -> String {
        match self.account {
            LedgerAccount::Customer(id) => id.to_string(),
            LedgerAccount::Internal(internal) => internal.name(),
        }
    }
}

/// What a replay of the log compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// The last sequence the live snapshot (and so the replay) includes.
    pub last_sequence: i64,
    /// How many events were replayed.
    pub events_replayed: i64,
    /// How many customer accounts the live tables hold.
    pub accounts_checked: usize,
    /// Every difference found; empty when the log reproduces the live state.
    pub mismatches: Vec<Mismatch>,
}

fn parse_cursor(cursor: Option<&str>) -> Result<i64, AppError> {
    match cursor {
        None => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|sequence| *sequence >= 0)
            .ok_or_else(|| AppError::invalid("cursor", "not a cursor this list returned")),
    }
}

fn check_limit(limit: Option<u32>) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ))
    }
}

fn overflow() -> AppError {
    AppError::Unknown(anyhow::anyhow!("a ledger total is out of range"))
}

impl<S: Storage, H: PasswordHasher, C: Clock> Service<S, H, C> {
    /// A page of the event log, in sequence order, after `query.cursor`.
    pub async fn audit_events(
        &self,
        caller: &Principal,
        query: &EventQuery,
    ) -> Result<EventPage, AppError> {
        require_auditor(caller)?;
        let after = parse_cursor(query.cursor.as_deref())?;
        let limit = check_limit(query.limit)?;
        // One more than asked tells whether a next page exists.
        let mut items = self.store.events(&query.filter, after, limit + 1).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|record| record.sequence.to_string())
        } else {
            None
        };
        Ok(EventPage { items, next_cursor })
    }

    /// Re-checks the hash chain of the whole log, a chunk at a time.
    pub async fn verify_log(&self, caller: &Principal) -> Result<ChainReport, AppError> {
        require_auditor(caller)?;
        let filter = EventFilter::default();
        let (mut prev_hash, mut next_sequence, mut after) = (GENESIS_HASH, 1, 0);
        let mut checked = 0i64;
        loop {
            let chunk = self.store.events(&filter, after, CHUNK).await?;
            match verify_chain(prev_hash, next_sequence, &chunk) {
                Ok((hash, next)) => {
                    checked += next - next_sequence;
                    (prev_hash, next_sequence) = (hash, next);
                }
                Err(broken) => {
                    checked += broken.sequence - next_sequence;
                    return Ok(ChainReport {
                        ok: false,
                        events_checked: checked.max(0),
                        first_broken: Some(broken.sequence),
                    });
                }
            }
            match chunk.last() {
                Some(last) if chunk.len() == CHUNK as usize => after = last.sequence,
                _ => break,
            }
        }
        Ok(ChainReport {
            ok: true,
            events_checked: checked,
            first_broken: None,
        })
    }

    /// Per currency, the customer and internal totals, from one snapshot.
    pub async fn trial_balance(
        &self,
        caller: &Principal,
    ) -> Result<Vec<CurrencyBalance>, AppError> {
        require_auditor(caller)?;
        let totals = self.store.trial_balance().await?;
        totals
            .into_iter()
            .map(|totals| {
                let total = totals
                    .internal_accounts
                    .iter()
                    .try_fold(totals.customer_accounts_minor, |sum, (_, balance)| {
                        sum.checked_add(*balance)
                    })
                    .ok_or_else(overflow)?;
                Ok(CurrencyBalance {
                    currency: totals.currency,
                    customer_accounts_minor: totals.customer_accounts_minor,
                    internal_accounts: totals.internal_accounts,
                    total_minor: total,
                })
            })
            .collect()
    }

    /// Replays the log up to the live snapshot's last event and lists every balance or status
    /// the replay does not reproduce.
    pub async fn rebuild_check(&self, caller: &Principal) -> Result<RebuildReport, AppError> {
        require_auditor(caller)?;
        let live = self.store.live_state().await?;
        let mut replay = Replay::default();
        let filter = EventFilter::default();
        let mut after = 0;
        'chunks: loop {
            let chunk = self.store.events(&filter, after, CHUNK).await?;
            for record in &chunk {
                if record.sequence > live.last_sequence {
                    break 'chunks;
                }
                replay.apply(record)?;
            }
            match chunk.last() {
                Some(last) if chunk.len() == CHUNK as usize => after = last.sequence,
                _ => break,
            }
        }
        Ok(RebuildReport {
            last_sequence: live.last_sequence,
            events_replayed: replay.events,
            accounts_checked: live.accounts.len(),
            mismatches: replay.compare(&live),
        })
    }
}

/// An account as the replayed log knows it.
#[derive(Debug, Clone, Copy, Default)]
struct ReplayedAccount {
    /// `None` when postings name an account no `AccountCreated` introduced.
    status: Option<AccountStatus>,
    balance_minor: i64,
}

/// The state rebuilt from the log alone.
#[derive(Debug, Default)]
struct Replay {
    accounts: BTreeMap<AccountId, ReplayedAccount>,
    internal: BTreeMap<InternalAccount, i64>,
    events: i64,
}

impl Replay {
    fn apply(&mut self, record: &EventRecord) -> Result<(), AppError> {
        let event = Event::from_stored(&record.event_type, &record.payload).map_err(|error| {
            AppError::Unknown(anyhow::Error::new(error).context(format!(
                "event {} ({}) cannot be read",
                record.sequence, record.event_type
            )))
        })?;
        self.events += 1;
        match event {
            Event::AccountCreated {
                account_id, status, ..
            } => {
                self.accounts.insert(
                    account_id,
                    ReplayedAccount {
                        status: Some(status),
                        balance_minor: 0,
                    },
                );
            }
            Event::AccountActivated { account_id } | Event::AccountUnfrozen { account_id, .. } => {
                self.set_status(account_id, AccountStatus::Active);
            }
            Event::AccountFrozen { account_id, .. } => {
                self.set_status(account_id, AccountStatus::Frozen);
            }
            Event::AccountClosed { account_id } => {
                self.set_status(account_id, AccountStatus::Closed);
            }
            Event::TransactionCompleted { postings, .. } => {
                for posting in postings {
                    let delta = posting.direction.signed(posting.amount_minor);
                    self.post(LedgerAccount::from_id(posting.account_id), delta)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn set_status(&mut self, account: AccountId, status: AccountStatus) {
        self.accounts.entry(account).or_default().status = Some(status);
    }

    fn post(&mut self, account: LedgerAccount, delta: i64) -> Result<(), AppError> {
        let balance = match account {
            LedgerAccount::Customer(id) => &mut self.accounts.entry(id).or_default().balance_minor,
            LedgerAccount::Internal(internal) => self.internal.entry(internal).or_default(),
        };
        *balance = balance.checked_add(delta).ok_or_else(overflow)?;
        Ok(())
    }

    fn compare(&self, live: &LiveState) -> Vec<Mismatch> {
        let mut mismatches = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for snapshot in &live.accounts {
            seen.insert(snapshot.id);
            let account = LedgerAccount::Customer(snapshot.id);
            let Some(replayed) = self.accounts.get(&snapshot.id) else {
                mismatches.push(mismatch(
                    account,
                    MismatchField::Existence,
                    "present",
                    "absent",
                ));
                continue;
            };
            let replayed_status = replayed.status.map_or("unknown", AccountStatus::as_str);
            if replayed.status != Some(snapshot.status) {
                mismatches.push(mismatch(
                    account,
                    MismatchField::Status,
                    snapshot.status.as_str(),
                    replayed_status,
                ));
            }
            if replayed.balance_minor != snapshot.balance_minor {
                mismatches.push(mismatch(
                    account,
                    MismatchField::Balance,
                    snapshot.balance_minor,
                    replayed.balance_minor,
                ));
            }
        }
        for id in self.accounts.keys().filter(|id| !seen.contains(id)) {
            mismatches.push(mismatch(
                LedgerAccount::Customer(*id),
                MismatchField::Existence,
                "absent",
                "present",
            ));
        }
        let live_internal: BTreeMap<InternalAccount, i64> =
            live.internal_accounts.iter().copied().collect();
        let internal_ids = live_internal.keys().chain(self.internal.keys());
        let internal_ids: std::collections::BTreeSet<&InternalAccount> = internal_ids.collect();
        for internal in internal_ids {
            let live_balance = live_internal.get(internal).copied().unwrap_or(0);
            let replayed = self.internal.get(internal).copied().unwrap_or(0);
            if live_balance != replayed {
                mismatches.push(mismatch(
                    LedgerAccount::Internal(*internal),
                    MismatchField::Balance,
                    live_balance,
                    replayed,
                ));
            }
        }
        mismatches
    }
}

fn mismatch(
    account: LedgerAccount,
    field: MismatchField,
    live: impl ToString,
    replayed: impl ToString,
) -> Mismatch {
    Mismatch {
        account,
        field,
        live: live.to_string(),
        replayed: replayed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffre_domain::events::{Actor, PostingRecord, chain_record};
    use coffre_domain::ledger::{Direction, InternalKind, TransactionId, TransactionType};
    use coffre_domain::{AccountType, CustomerId};
    use time::macros::datetime;

    use crate::ports::AccountSnapshot;

    fn record(sequence: i64, event: &Event) -> anyhow::Result<EventRecord> {
        Ok(chain_record(
            GENESIS_HASH,
            sequence,
            1,
            event,
            Actor::System,
            datetime!(2026-11-21 10:00 UTC),
        )?)
    }

    #[test]
    fn a_replay_reproduces_balances_and_statuses_and_names_what_differs() -> anyhow::Result<()> {
        let account = AccountId(Uuid::now_v7());
        let cash = InternalAccount {
            kind: InternalKind::Cash,
            currency: Currency::EUR,
        };
        let events = [
            Event::AccountCreated {
                account_id: account,
                customer_id: CustomerId(Uuid::now_v7()),
                iban: "FR7630001000640000000000175".to_owned(),
                account_type: AccountType::Courant,
                currency: Currency::EUR,
                status: AccountStatus::Active,
            },
            Event::TransactionCompleted {
                transaction_id: TransactionId(Uuid::now_v7()),
                transaction_type: TransactionType::Deposit,
                amount_minor: 500,
                currency: Currency::EUR,
                reverses: None,
                hold_id: None,
                postings: vec![
                    PostingRecord {
                        account_id: cash.id(),
                        direction: Direction::Debit,
                        amount_minor: 500,
                        balance_after_minor: -500,
                    },
                    PostingRecord {
                        account_id: account.0,
                        direction: Direction::Credit,
                        amount_minor: 500,
                        balance_after_minor: 500,
                    },
                ],
            },
            Event::AccountFrozen {
                account_id: account,
                reason: None,
            },
        ];
        let mut replay = Replay::default();
        for (index, event) in (1..).zip(events.iter()) {
            replay.apply(&record(index, event)?)?;
        }
        let mut live = LiveState {
            accounts: vec![AccountSnapshot {
                id: account,
                status: AccountStatus::Frozen,
                balance_minor: 500,
            }],
            internal_accounts: vec![(cash, -500)],
            last_sequence: 3,
        };
        assert_eq!(replay.compare(&live), Vec::new());
        live.internal_accounts = vec![(cash, -400)];
        live.accounts = vec![AccountSnapshot {
            id: account,
            status: AccountStatus::Active,
            balance_minor: 400,
        }];
        let fields: Vec<(String, MismatchField)> = replay
            .compare(&live)
            .into_iter()
            .map(|m| (m.account_label(), m.field))
            .collect();
        assert_eq!(
            fields,
            vec![
                (account.to_string(), MismatchField::Status),
                (account.to_string(), MismatchField::Balance),
                ("cash:EUR".to_owned(), MismatchField::Balance),
            ]
        );
        Ok(())
    }

    #[test]
    fn cursors_are_sequences_and_limits_are_bounded() {
        assert_eq!(parse_cursor(None).ok(), Some(0));
        assert_eq!(parse_cursor(Some("41")).ok(), Some(41));
        assert!(parse_cursor(Some("-1")).is_err());
        assert!(parse_cursor(Some("abc")).is_err());
        assert!(check_limit(Some(0)).is_err());
        assert!(check_limit(Some(101)).is_err());
        assert_eq!(check_limit(None).ok(), Some(DEFAULT_LIMIT));
    }
}
