//! Transactions on the wire.

use coffre_app::FieldError;
use coffre_app::ledger::{Destination, NewTransaction};
use coffre_domain::ledger::{Direction, Transaction, TransactionStatus, TransactionType};
use coffre_domain::{AccountId, Iban, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::MoneyDto;
use super::timestamp;

/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 140;

/// What a client may ask for.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum NewTransactionType {
    /// Cash in at the counter (tellers, admins): needs `destination_account_id`.
    DEPOSIT,
    /// Cash out: needs `source_account_id`.
    WITHDRAWAL,
    /// Account to account: needs `source_account_id` and one of `destination_account_id`,
    /// `destination_iban`.
    TRANSFER,
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum TransactionTypeDto {
    /// Cash in.
    DEPOSIT,
    /// Cash out.
    WITHDRAWAL,
    /// Account to account.
    TRANSFER,
    /// Undoes an earlier transaction.
    REVERSAL,
    /// A captured card hold.
    HOLD_CAPTURE,
}

impl From<TransactionType> for TransactionTypeDto {
    fn from(t: TransactionType) -> Self {
        match t {
            TransactionType::Deposit => TransactionTypeDto::DEPOSIT,
            TransactionType::Withdrawal => TransactionTypeDto::WITHDRAWAL,
            TransactionType::Transfer => TransactionTypeDto::TRANSFER,
            TransactionType::Reversal => TransactionTypeDto::REVERSAL,
            TransactionType::HoldCapture => TransactionTypeDto::HOLD_CAPTURE,
        }
    }
}

impl From<TransactionTypeDto> for TransactionType {
    fn from(t: TransactionTypeDto) -> Self {
        match t {
            TransactionTypeDto::DEPOSIT => TransactionType::Deposit,
            TransactionTypeDto::WITHDRAWAL => TransactionType::Withdrawal,
            TransactionTypeDto::TRANSFER => TransactionType::Transfer,
            TransactionTypeDto::REVERSAL => TransactionType::Reversal,
            TransactionTypeDto::HOLD_CAPTURE => TransactionType::HoldCapture,
        }
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum TransactionStatusDto {
    /// Not settled yet (inter-bank).
    PENDING,
    /// Booked.
    COMPLETED,
    /// Given up; nothing booked.
    FAILED,
    /// Booked, then undone by a reversal.
    REVERSED,
}

impl From<TransactionStatus> for TransactionStatusDto {
    fn from(s: TransactionStatus) -> Self {
        match s {
            TransactionStatus::Pending => TransactionStatusDto::PENDING,
            TransactionStatus::Completed => TransactionStatusDto::COMPLETED,
            TransactionStatus::Failed => TransactionStatusDto::FAILED,
            TransactionStatus::Reversed => TransactionStatusDto::REVERSED,
        }
    }
}

/// Which side of an account a posting is on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum DirectionDto {
    /// Money leaves the account.
    DEBIT,
    /// Money enters the account.
    CREDIT,
}

/// One line of a transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostingDto {
    /// The account: a customer account, or one of the bank's internal accounts.
    pub account_id: Uuid,
    /// Debit or credit.
    pub direction: DirectionDto,
    /// The amount (positive).
    pub amount: MoneyDto,
}

/// A transaction with its postings.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionDto {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// What it does.
    #[serde(rename = "type")]
    pub transaction_type: TransactionTypeDto,
    /// Where it stands.
    pub status: TransactionStatusDto,
    /// The amount moved.
    pub amount: MoneyDto,
    /// The customer account debited.
    pub source_account_id: Option<Uuid>,
    /// The customer account credited.
    pub destination_account_id: Option<Uuid>,
    /// The IBAN the payer named, for transfers addressed by IBAN.
    pub counterparty_iban: Option<String>,
    /// Statement text.
    pub label: Option<String>,
    /// The transaction this one reverses.
    pub reverses: Option<Uuid>,
    /// The reversal that undid this one.
    pub reversed_by: Option<Uuid>,
    /// Balanced double-entry lines.
    pub postings: Vec<PostingDto>,
    /// When it was requested.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was booked.
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
}

impl From<&Transaction> for TransactionDto {
    fn from(t: &Transaction) -> Self {
        TransactionDto {
            id: t.id.0,
            transaction_type: t.transaction_type.into(),
            status: t.status.into(),
            amount: t.amount.into(),
            source_account_id: t.source.map(|a| a.0),
            destination_account_id: t.destination.map(|a| a.0),
            counterparty_iban: t
                .counterparty_iban
                .as_ref()
                .map(|i| i.electronic().to_owned()),
            label: t.label.clone(),
            reverses: t.reverses.map(|r| r.0),
            reversed_by: t.reversed_by.map(|r| r.0),
            postings: t
                .postings
                .iter()
                .map(|p| PostingDto {
                    account_id: p.account.id(),
                    direction: match p.direction {
                        Direction::Debit => DirectionDto::DEBIT,
                        Direction::Credit => DirectionDto::CREDIT,
                    },
                    amount: p.amount.into(),
                })
                .collect(),
            created_at: timestamp::format(t.created_at),
            completed_at: timestamp::format_opt(t.completed_at),
        }
    }
}

/// Request to move money.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionBody {
    /// What to do.
    #[serde(rename = "type")]
    pub transaction_type: NewTransactionType,
    /// The account debited (WITHDRAWAL, TRANSFER).
    #[serde(default)]
    pub source_account_id: Option<Uuid>,
    /// The account credited (DEPOSIT; or TRANSFER, instead of `destination_iban`).
    #[serde(default)]
    pub destination_account_id: Option<Uuid>,
    /// The IBAN credited (TRANSFER, instead of `destination_account_id`).
    #[serde(default)]
    #[schema(example = "FR7699999000010123456789012")]
    pub destination_iban: Option<String>,
    /// The amount (positive).
    pub amount: MoneyDto,
    /// Statement text (1 to 140 printable characters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 140)]
    pub label: Option<String>,
}

/// Checks an optional statement label.
pub fn parse_label(field: &str, label: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(label) = label else {
        return Ok(None);
    };
    let length = label.chars().count();
    if length == 0 || length > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("must be 1 to {MAX_LABEL_CHARS} printable characters"),
        ));
    }
    Ok(Some(label))
}

/// Records `field`'s error when `present` differs from `needed`.
fn expect(errors: &mut Vec<FieldError>, field: &str, present: bool, needed: bool, kind: &str) {
    if present && !needed {
        errors.push(FieldError::new(field, format!("not allowed for a {kind}")));
    } else if !present && needed {
        errors.push(FieldError::new(field, format!("required for a {kind}")));
    }
}

impl TransactionBody {
    /// Validates into a request; field paths start with `prefix` (empty, or
    /// `transactions[3].` in a batch).
    pub fn try_into_domain(self, prefix: &str) -> Result<NewTransaction, Vec<FieldError>> {
        let field = |name: &str| format!("{prefix}{name}");
        let mut errors = Vec::new();
        let amount =
            Money::positive_from_decimal_str(&self.amount.amount, self.amount.currency.into())
                .map_err(|e| errors.push(FieldError::new(field("amount.amount"), e)))
                .ok();
        let label = parse_label(&field("label"), self.label)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let iban = self
            .destination_iban
            .as_deref()
            .map(Iban::parse)
            .transpose()
            .map_err(|e| errors.push(FieldError::new(field("destination_iban"), e)))
            .ok()
            .flatten();
        let (source, destination) = (self.source_account_id, self.destination_account_id);
        let kind = match self.transaction_type {
            NewTransactionType::DEPOSIT => "deposit",
            NewTransactionType::WITHDRAWAL => "withdrawal",
            NewTransactionType::TRANSFER => "transfer",
        };
        let is_transfer = self.transaction_type == NewTransactionType::TRANSFER;
        let needs_source = self.transaction_type != NewTransactionType::DEPOSIT;
        expect(
            &mut errors,
            &field("source_account_id"),
            source.is_some(),
            needs_source,
            kind,
        );
        if is_transfer {
            if destination.is_some() == self.destination_iban.is_some() {
                errors.push(FieldError::new(
                    field("destination_account_id"),
                    "a transfer needs exactly one of destination_account_id and destination_iban",
                ));
            }
        } else {
            let needs_destination = self.transaction_type == NewTransactionType::DEPOSIT;
            expect(
                &mut errors,
                &field("destination_account_id"),
                destination.is_some(),
                needs_destination,
                kind,
            );
            expect(
                &mut errors,
                &field("destination_iban"),
                self.destination_iban.is_some(),
                false,
                kind,
            );
        }
        let (Some(amount), true) = (amount, errors.is_empty()) else {
            return Err(errors);
        };
        let missing = || vec![FieldError::new(field("type"), "incomplete request")];
        let request = match self.transaction_type {
            NewTransactionType::DEPOSIT => NewTransaction::Deposit {
                account: AccountId(destination.ok_or_else(missing)?),
                amount,
                label,
            },
            NewTransactionType::WITHDRAWAL => NewTransaction::Withdrawal {
                account: AccountId(source.ok_or_else(missing)?),
                amount,
                label,
            },
            NewTransactionType::TRANSFER => NewTransaction::Transfer {
                source: AccountId(source.ok_or_else(missing)?),
                destination: match (destination, iban) {
                    (Some(id), _) => Destination::Account(AccountId(id)),
                    (None, Some(iban)) => Destination::Iban(iban),
                    (None, None) => return Err(missing()),
                },
                amount,
                label,
            },
        };
        Ok(request)
    }
}

/// Request to reverse a transaction (the body may also be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// Statement text (default: "Reversal of <id>").
    #[serde(default)]
    #[schema(min_length = 1, max_length = 140)]
    pub label: Option<String>,
}
