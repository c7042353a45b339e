//! Step-up authentication: sensitive money movements need a login with a one-time code within
//! the last few minutes, whatever else the caller's credential allows (PSD2's strong customer
//! authentication, in spirit).

use coffre_domain::Money;
use time::{Duration, OffsetDateTime};

use crate::{AppError, MfaRequirement, Principal};

/// Which operations need a recent second factor, and how recent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUpPolicy {
    /// A customer's transfer of more than this many minor units of its currency needs
    /// step-up (default 1 000.00).
    pub threshold_minor: i64,
    /// How long a login with a one-time code counts as recent (default 5 minutes).
    pub max_age: Duration,
}

impl Default for StepUpPolicy {
    fn default() -> Self {
        StepUpPolicy {
            threshold_minor: 100_000,
            max_age: Duration::minutes(5),
        }
    }
}

impl StepUpPolicy {
    /// True when a transfer of `amount` needs step-up; paying a new beneficiary of another
    /// bank always does.
    pub fn applies_to(&self, amount: Money, new_beneficiary: bool) -> bool {
        new_beneficiary || amount.amount_minor() > self.threshold_minor
    }

    /// Refuses, with `mfa_required`, a caller whose last one-time code is older than
    /// `max_age` at `now`, or who never gave one.
    pub fn require(&self, caller: &Principal, now: OffsetDateTime) -> Result<(), AppError> {
        let fresh = caller
            .one_time_code_at()
            .is_some_and(|at| now - at <= self.max_age);
        if fresh {
            Ok(())
        } else {
            Err(AppError::MfaRequired(MfaRequirement::StepUp {
                max_age_s: self.max_age.whole_seconds(),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use coffre_domain::{Currency, Role, UserId};
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::principal::{Credential, SignIn};

    const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    fn customer(amr: &[&str], auth_time: OffsetDateTime) -> Principal {
        Principal {
            user_id: UserId(Uuid::nil()),
            role: Role::Customer,
            customer_id: None,
            credential: Credential::Session(SignIn {
                amr: amr.iter().map(|m| (*m).to_owned()).collect(),
                auth_time,
            }),
        }
    }

    fn eur(minor: i64) -> Result<Money, coffre_domain::MoneyError> {
        Money::from_minor(minor, Currency::EUR)
    }

    #[test]
    fn only_transfers_above_the_threshold_or_to_new_beneficiaries_need_it()
    -> Result<(), coffre_domain::MoneyError> {
        let policy = StepUpPolicy::default();
        assert!(!policy.applies_to(eur(100_000)?, false));
        assert!(policy.applies_to(eur(100_001)?, false));
        assert!(policy.applies_to(eur(1)?, true));
        Ok(())
    }

    #[test]
    fn a_one_time_code_counts_for_five_minutes() {
        let policy = StepUpPolicy::default();
        let otp = ["pwd", "otp", "mfa"];
        assert!(
            policy
                .require(&customer(&otp, NOW - Duration::minutes(5)), NOW)
                .is_ok()
        );
        assert!(matches!(
            policy.require(&customer(&otp, NOW - Duration::seconds(301)), NOW),
            Err(AppError::MfaRequired(MfaRequirement::StepUp {
                max_age_s: 300
            }))
        ));
        assert!(policy.require(&customer(&["pwd"], NOW), NOW).is_err());
    }
}
