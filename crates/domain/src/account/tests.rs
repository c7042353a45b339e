//! The account rules, tested against a table of legal transitions written apart from the code.

use super::*;
use crate::iban::FrenchRib;
use proptest::prelude::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

fn open(
    account_type: AccountType,
    kyc: KycStatus,
    currency: Currency,
) -> Result<Account, AccountError> {
    let iban = FrenchRib::new("99999", "00001", "00000000001")
        .map(|rib| rib.to_iban())
        .map_err(|_| AccountError::Closed)?;
    let bic = Bic::parse("COFRFRPP").map_err(|_| AccountError::Closed)?;
    Account::open(
        NewAccount {
            id: AccountId(Uuid::nil()),
            customer_id: CustomerId(Uuid::nil()),
            customer_kyc: kyc,
            account_type,
            currency,
            iban,
            bic,
            nickname: None,
        },
        NOW,
    )
}

#[test]
fn an_account_reads_back_from_its_serialised_form_unchanged()
-> Result<(), Box<dyn std::error::Error>> {
    let mut account = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
    // Sub-millisecond instants and every optional field set: nothing may be rounded or lost.
    account.updated_at = datetime!(2026-11-21 10:00:00.123456789 UTC);
    account.nickname = Some("Épargne vacances".to_owned());
    account.daily_limit_minor = Some(50_000);
    account.outgoing_day = Some(NOW.date());
    let text = serde_json::to_string(&account)?;
    let back: Account = serde_json::from_str(&text)?;
    assert_eq!(back, account);
    Ok(())
}

#[test]
fn accounts_of_verified_customers_open_active_and_others_wait_for_kyc() {
    let status = |kyc| open(AccountType::Courant, kyc, Currency::EUR).map(|a| a.status);
    assert_eq!(status(KycStatus::Verified), Ok(AccountStatus::Active));
    assert_eq!(status(KycStatus::Pending), Ok(AccountStatus::PendingKyc));
    assert_eq!(
        status(KycStatus::Rejected),
        Err(AccountError::CustomerRejected)
    );
}

#[test]
fn a_livret_a_is_only_offered_in_euros_and_has_no_overdraft() -> Result<(), AccountError> {
    assert_eq!(
        open(AccountType::LivretA, KycStatus::Verified, Currency::USD).map(|a| a.status),
        Err(AccountError::CurrencyNotAllowed)
    );
    let mut livret = open(AccountType::LivretA, KycStatus::Verified, Currency::EUR)?;
    let hundred =
        Money::from_minor(10_000, Currency::EUR).map_err(|_| AccountError::OverdraftNotAllowed)?;
    assert_eq!(
        livret.set_overdraft_limit(hundred, NOW),
        Err(AccountError::OverdraftNotAllowed)
    );
    Ok(())
}

#[test]
fn an_account_with_money_cannot_be_closed() -> Result<(), AccountError> {
    let mut account = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
    account.balance_minor = 1;
    assert_eq!(account.close(NOW), Err(AccountError::NotEmpty));
    account.balance_minor = -1;
    assert_eq!(account.close(NOW), Err(AccountError::NotEmpty));
    account.balance_minor = 0;
    account.close(NOW)?;
    assert_eq!(account.status, AccountStatus::Closed);
    assert_eq!(account.closed_at, Some(NOW));
    Ok(())
}

#[test]
fn a_kyc_rejection_closes_only_pending_accounts() -> Result<(), AccountError> {
    let mut pending = open(AccountType::Courant, KycStatus::Pending, Currency::EUR)?;
    assert!(pending.close_after_kyc_rejection(NOW));
    assert_eq!(
        (pending.status, pending.closed_at),
        (AccountStatus::Closed, Some(NOW))
    );
    let mut active = open(AccountType::Courant, KycStatus::Verified, Currency::EUR)?;
    assert!(!active.close_after_kyc_rejection(NOW));
    assert_eq!(active.status, AccountStatus::Active);
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Activate,
    Freeze,
    Unfreeze,
    Close,
}

fn apply(account: &mut Account, action: Action) -> bool {
    match action {
        Action::Activate => account.activate_after_kyc(NOW),
        Action::Freeze => account.freeze("investigation".into(), NOW).is_ok(),
        Action::Unfreeze => account.unfreeze("cleared".into(), NOW).is_ok(),
        Action::Close => account.close(NOW).is_ok(),
    }
}

/// The legal transitions, written out as a table independent of the implementation.
fn is_legal(from: AccountStatus, action: Action, balance_minor: i64) -> Option<AccountStatus> {
    use AccountStatus::*;
    match (from, action) {
        (PendingKyc, Action::Activate) => Some(Active),
        (Active, Action::Freeze) => Some(Frozen),
        (Frozen, Action::Unfreeze) => Some(Active),
        (PendingKyc | Active, Action::Close) if balance_minor == 0 => Some(Closed),
        _ => None,
    }
}

proptest! {
    #[test]
    fn only_legal_transitions_happen_and_refusals_change_nothing(
        actions in proptest::collection::vec(
            proptest::sample::select(vec![Action::Activate, Action::Freeze, Action::Unfreeze, Action::Close]),
            0..20,
        ),
        balance_minor in -1i64..=1,
    ) {
        let mut account = open(AccountType::Courant, KycStatus::Pending, Currency::EUR)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        account.balance_minor = balance_minor;
        for action in actions {
            let before = account.clone();
            let expected = is_legal(before.status, action, balance_minor);
            let changed = apply(&mut account, action);
            match expected {
                Some(status) => {
                    prop_assert!(changed);
                    prop_assert_eq!(account.status, status);
                    prop_assert_eq!(account.version, before.version + 1);
                }
                None => {
                    prop_assert!(!changed);
                    prop_assert_eq!(&account, &before);
                }
            }
        }
    }
}
