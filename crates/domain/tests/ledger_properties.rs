//! Properties of the pure ledger: whatever sequence of requests a bank receives, money is
//! neither created nor lost, no account goes past its overdraft, every balance is the sum of
//! its postings, and a refused request changes nothing.

use std::collections::BTreeMap;

use coffre_domain::events::Event;
use coffre_domain::ledger::{
    Applied, HoldId, InternalAccount, LedgerAccount, LedgerCommand, LedgerError, LedgerPolicy,
    LedgerRequest, LedgerState, Posting, TransactionId, apply,
};
use coffre_domain::{
    Account, AccountId, AccountType, Bic, Currency, CustomerId, FrenchRib, KycStatus, Money,
    NewAccount,
};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The accounts of the scenario, by index: (type, currency, owner, overdraft limit).
const ACCOUNTS: [(AccountType, Currency, u128, i64); 5] = [
    (AccountType::Courant, Currency::EUR, 1, 50_000),
    (AccountType::Courant, Currency::EUR, 2, 0),
    (AccountType::Epargne, Currency::EUR, 1, 0),
    (AccountType::LivretA, Currency::EUR, 1, 0),
    (AccountType::Courant, Currency::USD, 2, 10_000),
];

/// Large enough to reach the Livret A ceiling and the daily limit, small enough to stay within
/// an overdraft now and then.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 1i64..=20_000,
        2 => 20_000i64..=300_000,
        1 => 300_000i64..=2_500_000,
    ]
}

/// One request, naming accounts, holds and transactions by index into what exists so far.
#[derive(Debug, Clone)]
enum Op {
    Deposit {
        account: usize,
        amount: i64,
        usd: bool,
    },
    Withdrawal {
        account: usize,
        amount: i64,
        usd: bool,
    },
    Transfer {
        source: usize,
        destination: usize,
        amount: i64,
        usd: bool,
    },
    PlaceHold {
        account: usize,
        amount: i64,
        minutes: i64,
    },
    Capture {
        hold: usize,
        part: Option<i64>,
    },
    Release {
        hold: usize,
    },
    Expire {
        hold: usize,
    },
    Reverse {
        transaction: usize,
    },
    Close {
        account: usize,
    },
    /// A hold or transaction that does not exist.
    UnknownHold,
}

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Step {
    Batch(Vec<Op>),
    Freeze(usize),
    Unfreeze(usize),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let account = 0..ACCOUNTS.len();
    let usd = proptest::bool::weighted(0.1);
    prop_oneof![
        4 => (account.clone(), amount(), usd)
            .prop_map(|(account, amount, usd)| Op::Deposit { account, amount, usd }),
        3 => (account.clone(), amount(), usd)
            .prop_map(|(account, amount, usd)| Op::Withdrawal { account, amount, usd }),
        4 => (account.clone(), account.clone(), amount(), usd)
            .prop_map(|(source, destination, amount, usd)| Op::Transfer {
                source,
                destination,
                amount,
                usd
            }),
        3 => (account.clone(), amount(), -10i64..60 * 24 * 35)
            .prop_map(|(account, amount, minutes)| Op::PlaceHold { account, amount, minutes }),
        2 => (any::<usize>(), proptest::option::of(1i64..=100_000))
            .prop_map(|(hold, part)| Op::Capture { hold, part }),
        1 => any::<usize>().prop_map(|hold| Op::Release { hold }),
        1 => any::<usize>().prop_map(|hold| Op::Expire { hold }),
        2 => any::<usize>().prop_map(|transaction| Op::Reverse { transaction }),
        1 => account.prop_map(|account| Op::Close { account }),
        1 => Just(Op::UnknownHold),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let account = 0..ACCOUNTS.len();
    prop_oneof![
        8 => proptest::collection::vec(op(), 1..6).prop_map(Step::Batch),
        1 => account.clone().prop_map(Step::Freeze),
        1 => account.prop_map(Step::Unfreeze),
        2 => (1i64..60 * 24 * 3).prop_map(Step::Advance),
    ]
}

/// The scenario's state and everything booked so far.
struct World {
    state: LedgerState,
    ids: Vec<AccountId>,
    holds: Vec<HoldId>,
    transactions: Vec<TransactionId>,
    postings: Vec<Posting>,
    now: OffsetDateTime,
    next_id: u128,
}

fn open_accounts() -> Result<(LedgerState, Vec<AccountId>), TestCaseError> {
    let bic = Bic::parse("COFFFRPPXXX").map_err(fail)?;
    let start = datetime!(2026-11-21 09:00 UTC);
    let mut state = LedgerState::default();
    let mut ids = Vec::new();
    for (index, (account_type, currency, owner, overdraft)) in ACCOUNTS.into_iter().enumerate() {
        let id = AccountId(Uuid::from_u128(0x1000 + index as u128));
        let number = format!("{:011}", index + 1);
        let iban = FrenchRib::new("30001", "00064", &number)
            .map_err(fail)?
            .to_iban();
        let mut account = Account::open(
            NewAccount {
                id,
                customer_id: CustomerId(Uuid::from_u128(owner)),
                customer_kyc: KycStatus::Verified,
                account_type,
                currency,
                iban,
                bic: bic.clone(),
                nickname: None,
            },
            start,
        )
        .map_err(fail)?;
        let limit = Money::from_minor(overdraft, currency).map_err(fail)?;
        account.set_overdraft_limit(limit, start).map_err(fail)?;
        state.accounts.insert(id, account);
        ids.push(id);
    }
    for internal in InternalAccount::all() {
        state.internal.insert(internal, 0);
    }
    Ok((state, ids))
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

impl World {
    fn new() -> Result<Self, TestCaseError> {
        let (state, ids) = open_accounts()?;
        Ok(World {
            state,
            ids,
            holds: Vec::new(),
            transactions: Vec::new(),
            postings: Vec::new(),
            now: datetime!(2026-11-21 10:00 UTC),
            next_id: 1,
        })
    }

    fn fresh_id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(0xABCD_0000_0000 + self.next_id)
    }

    fn account(&self, index: usize) -> AccountId {
        self.ids
            .get(index % self.ids.len())
            .copied()
            .unwrap_or(AccountId(Uuid::nil()))
    }

    fn money(&self, account: usize, amount: i64, usd: bool) -> Result<Money, TestCaseError> {
        let currency = if usd {
            Currency::USD
        } else {
            self.state
                .accounts
                .get(&self.account(account))
                .map_or(Currency::EUR, |account| account.currency)
        };
        Money::from_minor(amount, currency).map_err(fail)
    }

    fn hold(&self, index: usize) -> HoldId {
        match self.holds.len() {
            0 => HoldId(Uuid::from_u128(0xDEAD)),
            len => self
                .holds
                .get(index % len)
                .copied()
                .unwrap_or(HoldId(Uuid::nil())),
        }
    }

    fn transaction(&self, index: usize) -> TransactionId {
        match self.transactions.len() {
            0 => TransactionId(Uuid::from_u128(0xBEEF)),
            len => self
                .transactions
                .get(index % len)
                .copied()
                .unwrap_or(TransactionId(Uuid::nil())),
        }
    }

    fn command(&mut self, op: &Op) -> Result<LedgerCommand, TestCaseError> {
        let request = match *op {
            Op::Deposit {
                account,
                amount,
                usd,
            } => LedgerRequest::Deposit {
                account: self.account(account),
                amount: self.money(account, amount, usd)?,
                label: None,
            },
            Op::Withdrawal {
                account,
                amount,
                usd,
            } => LedgerRequest::Withdrawal {
                account: self.account(account),
                amount: self.money(account, amount, usd)?,
                label: None,
            },
            Op::Transfer {
                source,
                destination,
                amount,
                usd,
            } => LedgerRequest::Transfer {
                source: self.account(source),
                destination: self.account(destination),
                amount: self.money(source, amount, usd)?,
                label: Some("test".to_owned()),
                counterparty_iban: None,
            },
            Op::PlaceHold {
                account,
                amount,
                minutes,
            } => LedgerRequest::PlaceHold {
                account: self.account(account),
                amount: self.money(account, amount, false)?,
                expires_at: self.now + Duration::minutes(minutes),
            },
            Op::Capture { hold, part } => {
                let hold = self.hold(hold);
                let currency = self
                    .state
                    .holds
                    .get(&hold)
                    .map_or(Currency::EUR, |hold| hold.amount.currency());
                let amount = part
                    .map(|part| Money::from_minor(part, currency))
                    .transpose()
                    .map_err(fail)?;
                LedgerRequest::CaptureHold {
                    hold,
                    amount,
                    label: None,
                }
            }
            Op::Release { hold } => LedgerRequest::ReleaseHold {
                hold: self.hold(hold),
            },
            Op::Expire { hold } => LedgerRequest::ExpireHold {
                hold: self.hold(hold),
            },
            Op::Reverse { transaction } => LedgerRequest::Reverse {
                original: self.transaction(transaction),
                label: None,
            },
            Op::Close { account } => LedgerRequest::Close {
                account: self.account(account),
            },
            Op::UnknownHold => LedgerRequest::CaptureHold {
                hold: HoldId(Uuid::from_u128(0xF00D)),
                amount: None,
                label: None,
            },
        };
        Ok(LedgerCommand {
            id: self.fresh_id(),
            request,
        })
    }

    /// Applies a batch, checks it against the same commands applied one at a time (each
    /// refusal leaving the state exactly as it was), and records what it booked.
    fn run_batch(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        let mut commands = Vec::new();
        for op in ops {
            commands.push(self.command(op)?);
        }
        let policy = LedgerPolicy::default();
        let mut one_by_one = self.state.clone();
        let mut singles = Vec::new();
        for command in &commands {
            let before = one_by_one.clone();
            let mut results = apply(
                &mut one_by_one,
                std::slice::from_ref(command),
                &policy,
                self.now,
            );
            prop_assert_eq!(results.len(), 1);
            let result = results.pop().ok_or_else(|| fail("no result"))?;
            if result.is_err() {
                prop_assert_eq!(&one_by_one, &before, "a refused command changed the state");
            } else {
                prop_assert_ne!(&one_by_one, &before, "an accepted command changed nothing");
            }
            singles.push(result);
        }
        let results = apply(&mut self.state, &commands, &policy, self.now);
        prop_assert_eq!(
            &results,
            &singles,
            "a batch differs from its commands one by one"
        );
        prop_assert_eq!(&self.state, &one_by_one);
        for (command, result) in commands.iter().zip(results) {
            if let Ok(applied) = result {
                self.record(command, applied)?;
            }
        }
        Ok(())
    }

    fn record(&mut self, command: &LedgerCommand, applied: Applied) -> Result<(), TestCaseError> {
        prop_assert!(
            !applied.events.is_empty(),
            "an accepted command recorded nothing"
        );
        if let Some(hold) = &applied.hold {
            if matches!(command.request, LedgerRequest::PlaceHold { .. }) {
                self.holds.push(hold.id);
            }
        }
        if let Some(transaction) = applied.transaction {
            prop_assert!(transaction.is_balanced(), "unbalanced: {:?}", transaction);
            prop_assert_eq!(transaction.id.0, command.id);
            prop_assert_eq!(
                applied.events.first(),
                Some(&Event::transaction_completed(&transaction))
            );
            self.transactions.push(transaction.id);
            self.postings.extend(transaction.postings);
        }
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::Batch(ops) => self.run_batch(ops)?,
            Step::Freeze(index) => {
                let now = self.now;
                if let Some(account) = self.state.accounts.get_mut(&self.account(*index)) {
                    // Refused on a closed or already frozen account, like the API.
                    let _refused = account.freeze("investigation".to_owned(), now);
                }
            }
            Step::Unfreeze(index) => {
                let now = self.now;
                if let Some(account) = self.state.accounts.get_mut(&self.account(*index)) {
                    let _refused = account.unfreeze("cleared".to_owned(), now);
                }
            }
            Step::Advance(minutes) => self.now += Duration::minutes(*minutes),
        }
        Ok(())
    }

    /// Every invariant of the ledger, checked after every step.
    fn check(&self) -> Result<(), TestCaseError> {
        // Zero-sum per currency, customer and internal accounts together.
        let mut totals: BTreeMap<Currency, i128> = BTreeMap::new();
        for account in self.state.accounts.values() {
            *totals.entry(account.currency).or_default() += i128::from(account.balance_minor);
        }
        for (internal, balance) in &self.state.internal {
            *totals.entry(internal.currency).or_default() += i128::from(*balance);
        }
        for (currency, total) in &totals {
            prop_assert_eq!(*total, 0, "the {} ledger does not sum to zero", currency);
        }
        // Overdraft and holds.
        for account in self.state.accounts.values() {
            let pending = self.state.pending_holds_minor(account.id, self.now);
            let available = account.balance_minor - pending;
            prop_assert!(pending >= 0);
            prop_assert!(available <= account.balance_minor);
            prop_assert!(
                available >= -account.overdraft_limit_minor,
                "{} available {} below the overdraft limit {}",
                account.id,
                available,
                account.overdraft_limit_minor
            );
        }
        // Every balance is the sum of its postings, and each running balance is right.
        let mut sums: BTreeMap<LedgerAccount, i64> = BTreeMap::new();
        for posting in &self.postings {
            let sum = sums.entry(posting.account).or_default();
            *sum += posting.direction.signed(posting.amount.amount_minor());
            prop_assert_eq!(*sum, posting.balance_after_minor, "running balance");
        }
        for account in self.state.accounts.values() {
            let sum = sums
                .get(&LedgerAccount::Customer(account.id))
                .copied()
                .unwrap_or(0);
            prop_assert_eq!(account.balance_minor, sum, "{} vs its postings", account.id);
        }
        for (internal, balance) in &self.state.internal {
            let sum = sums
                .get(&LedgerAccount::Internal(*internal))
                .copied()
                .unwrap_or(0);
            prop_assert_eq!(*balance, sum, "{} vs its postings", internal);
        }
        for transaction in self.state.transactions.values() {
            prop_assert!(transaction.is_balanced());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_ledger_keeps_its_invariants(steps in proptest::collection::vec(step(), 1..60)) {
        let mut world = World::new()?;
        world.check()?;
        for step in &steps {
            world.step(step)?;
            world.check()?;
        }
    }
}

fn eur(minor: i64) -> Result<Money, TestCaseError> {
    Money::from_minor(minor, Currency::EUR).map_err(fail)
}

fn single(
    world: &mut World,
    request: LedgerRequest,
) -> Result<Result<Applied, LedgerError>, TestCaseError> {
    let command = LedgerCommand {
        id: world.fresh_id(),
        request,
    };
    let mut results = apply(
        &mut world.state,
        &[command],
        &LedgerPolicy::default(),
        world.now,
    );
    results.pop().ok_or_else(|| fail("no result"))
}

#[test]
fn a_capture_may_spend_the_money_its_own_hold_reserved() -> Result<(), TestCaseError> {
    let mut world = World::new()?;
    let account = world.account(1);
    single(
        &mut world,
        LedgerRequest::Deposit {
            account,
            amount: eur(10_000)?,
            label: None,
        },
    )?
    .map_err(fail)?;
    let hold = HoldId(world.fresh_id());
    let place = LedgerCommand {
        id: hold.0,
        request: LedgerRequest::PlaceHold {
            account,
            amount: eur(10_000)?,
            expires_at: world.now + Duration::days(1),
        },
    };
    let mut placed = apply(
        &mut world.state,
        &[place],
        &LedgerPolicy::default(),
        world.now,
    );
    placed
        .pop()
        .ok_or_else(|| fail("no result"))?
        .map_err(fail)?;
    // Everything is reserved: a withdrawal is refused, the capture of the hold is not.
    let refused = single(
        &mut world,
        LedgerRequest::Withdrawal {
            account,
            amount: eur(1)?,
            label: None,
        },
    )?;
    assert_eq!(refused.err(), Some(LedgerError::InsufficientFunds));
    single(
        &mut world,
        LedgerRequest::CaptureHold {
            hold,
            amount: Some(eur(4_000)?),
            label: None,
        },
    )?
    .map_err(fail)?;
    // The part not captured is freed.
    assert_eq!(world.state.pending_holds_minor(account, world.now), 0);
    assert_eq!(
        world.state.accounts.get(&account).map(|a| a.balance_minor),
        Some(6_000)
    );
    Ok(())
}

#[test]
fn an_expired_hold_frees_its_money_before_anyone_marks_it() -> Result<(), TestCaseError> {
    let mut world = World::new()?;
    let account = world.account(1);
    single(
        &mut world,
        LedgerRequest::Deposit {
            account,
            amount: eur(5_000)?,
            label: None,
        },
    )?
    .map_err(fail)?;
    let hold = HoldId(world.fresh_id());
    let place = LedgerCommand {
        id: hold.0,
        request: LedgerRequest::PlaceHold {
            account,
            amount: eur(5_000)?,
            expires_at: world.now + Duration::hours(1),
        },
    };
    let mut placed = apply(
        &mut world.state,
        &[place],
        &LedgerPolicy::default(),
        world.now,
    );
    placed
        .pop()
        .ok_or_else(|| fail("no result"))?
        .map_err(fail)?;
    let early = single(&mut world, LedgerRequest::ExpireHold { hold })?;
    assert_eq!(early.err(), Some(LedgerError::HoldNotActive));
    world.now += Duration::hours(1);
    single(
        &mut world,
        LedgerRequest::Withdrawal {
            account,
            amount: eur(5_000)?,
            label: None,
        },
    )?
    .map_err(fail)?;
    let capture = single(
        &mut world,
        LedgerRequest::CaptureHold {
            hold,
            amount: None,
            label: None,
        },
    )?;
    assert_eq!(capture.err(), Some(LedgerError::HoldNotActive));
    single(&mut world, LedgerRequest::ExpireHold { hold })?.map_err(fail)?;
    Ok(())
}

#[test]
fn a_reversal_is_itself_irreversible_and_the_original_reversible_once() -> Result<(), TestCaseError>
{
    let mut world = World::new()?;
    let account = world.account(0);
    let deposit = single(
        &mut world,
        LedgerRequest::Deposit {
            account,
            amount: eur(700)?,
            label: None,
        },
    )?
    .map_err(fail)?;
    let original = deposit
        .transaction
        .map(|t| t.id)
        .ok_or_else(|| fail("no transaction"))?;
    let reversal = single(
        &mut world,
        LedgerRequest::Reverse {
            original,
            label: None,
        },
    )?
    .map_err(fail)?;
    let reversal = reversal
        .transaction
        .map(|t| t.id)
        .ok_or_else(|| fail("no transaction"))?;
    let again = single(
        &mut world,
        LedgerRequest::Reverse {
            original,
            label: None,
        },
    )?;
    assert_eq!(again.err(), Some(LedgerError::NotReversible));
    let back = single(
        &mut world,
        LedgerRequest::Reverse {
            original: reversal,
            label: None,
        },
    )?;
    assert_eq!(back.err(), Some(LedgerError::NotReversible));
    assert_eq!(
        world.state.accounts.get(&account).map(|a| a.balance_minor),
        Some(0)
    );
    world.check()
}
