//! Replaying the event log into a scratch state and comparing it with the live tables: what
//! makes the log the source of truth rather than a side note.

use std::collections::{BTreeMap, BTreeSet};

use coffre_domain::events::{Event, EventRecord};
use coffre_domain::ledger::{InternalAccount, LedgerAccount};
use coffre_domain::{AccountId, AccountStatus};

use super::{CHUNK, overflow, require_auditor};
use crate::ports::{Clock, EventFilter, LiveState, Storage};
use crate::{AppError, Principal, Service};

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

impl<S: Storage, C: Clock> Service<S, C> {
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
        let mut seen = BTreeSet::new();
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
        let internal_ids: BTreeSet<&InternalAccount> = internal_ids.collect();
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
    use coffre_domain::events::{Actor, GENESIS_HASH, PostingRecord, chain_record};
    use coffre_domain::ledger::{Direction, InternalKind, TransactionId, TransactionType};
    use coffre_domain::{AccountType, Currency, CustomerId};
    use time::macros::datetime;
    use uuid::Uuid;

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
}
