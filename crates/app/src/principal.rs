//! Who is calling: the authenticated user, their role and, for customers, which customer.

use coffre_domain::events::Actor;
use coffre_domain::{CustomerId, Role, UserId};

use crate::AppError;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// For customers, the customer they are.
    pub customer_id: Option<CustomerId>,
}

impl Principal {
    /// The caller as the event log records them.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }

    /// True when the caller is this customer. Staff are never "the owner".
    pub fn is_customer(&self, customer_id: CustomerId) -> bool {
        self.role == Role::Customer && self.customer_id == Some(customer_id)
    }

    /// May read this customer's records: the customer themself, or any staff member.
    pub fn can_read(&self, owner: CustomerId) -> bool {
        self.role.is_staff() || self.is_customer(owner)
    }

    /// Refuses anyone but staff who service accounts (teller, admin), with 403: the resource's
    /// existence is not a secret from staff.
    pub fn require_servicing_staff(&self) -> Result<(), AppError> {
        if self.role.can_service_accounts() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses non-staff with 403 (staff-only collections such as the customer list).
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.role.is_staff() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The 404 rule: a resource the caller may not read does not exist for them.
    pub fn require_read(&self, owner: CustomerId) -> Result<(), AppError> {
        if self.can_read(owner) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
