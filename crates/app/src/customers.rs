//! Customer use cases: sign-up, reading, listing and the manual KYC decision.

use std::sync::{Arc, Mutex, PoisonError};

use coffre_domain::customer::check_birth_date;
use coffre_domain::events::Actor;
use coffre_domain::{
    Address, Customer, CustomerError, CustomerId, Email, KycDecision, Password, PersonName, Role,
    UserId, Username,
};
use time::Date;
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::ports::{Clock, CustomerFilter, Storage, UserRecord};
use crate::{AppError, Principal, Service};

/// A validated sign-up request.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// E-mail address, which becomes the username.
    pub email: Email,
    /// Date of birth (checked against today by the use case).
    pub birth_date: Date,
    /// Postal address.
    pub address: Address,
    /// The new login's password.
    pub password: Password,
}

/// A KYC decision request (the reason is checked by the use case, after the role).
#[derive(Debug, Clone)]
pub struct DecideKyc {
    /// Verified or rejected.
    pub decision: KycDecision,
    /// The reviewer's note, as sent.
    pub reason: Option<String>,
}

/// The customer list's parameters, as sent (checked by the use case, after the role).
#[derive(Debug, Clone, Default)]
pub struct ListCustomers {
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size.
    pub limit: Option<u32>,
    /// Only this KYC status.
    pub kyc_status: Option<coffre_domain::KycStatus>,
    /// Substring of name or e-mail.
    pub q: Option<String>,
}

/// The search text: trimmed, lower-cased, at most 100 characters, no control characters;
/// empty means no search.
fn search_query(q: Option<&str>) -> Result<Option<String>, AppError> {
    match q.map(str::trim) {
        Some(q) if q.chars().any(char::is_control) => Err(AppError::invalid(
            "q",
            "must not contain control characters",
        )),
        Some(q) if q.chars().count() > 100 => {
            Err(AppError::invalid("q", "must be at most 100 characters"))
        }
        Some("") | None => Ok(None),
        Some(q) => Ok(Some(q.to_lowercase())),
    }
}

impl<S: Storage, C: Clock> Service<S, C> {
    /// Signs a customer up, publicly or at a teller's desk. A logged-in customer or an auditor
    /// cannot sign someone else up.
    pub async fn sign_up(
        &self,
        caller: Option<&Principal>,
        request: SignUp,
    ) -> Result<Customer, AppError> {
        if let Some(caller) = caller {
            caller.require_servicing_staff()?;
        }
        let now = self.clock.now();
        let birth_date = check_birth_date(request.birth_date, now.date())
            .map_err(|e| AppError::invalid("birth_date", e))?;
        let username =
            Username::parse(request.email.as_str()).map_err(|e| AppError::invalid("email", e))?;
        let customer = Customer {
            id: CustomerId(Uuid::now_v7()),
            first_name: request.first_name,
            last_name: request.last_name,
            email: request.email,
            birth_date,
            address: request.address,
            kyc_status: coffre_domain::KycStatus::Pending,
            kyc_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let password_hash = self
            .hasher
            .hash(request.password.expose())
            .await
            .map_err(AppError::from_hasher)?;
        let user = UserRecord {
            id: UserId(Uuid::now_v7()),
            username,
            password_hash,
            role: Role::Customer,
            customer_id: Some(customer.id),
            created_at: now,
        };
        // A teller registering a customer is the actor; at sign-up, the new user is.
        let actor = caller.map_or(Actor::User(user.id), Principal::actor);
        self.store.insert_customer(&customer, &user, actor).await?;
        tracing::info!(customer_id = %customer.id, "customer signed up");
        Ok(customer)
    }

    /// Reads a customer: the customer themself or staff; anyone else gets 404.
    pub async fn get_customer(
        &self,
        caller: &Principal,
        id: CustomerId,
    ) -> Result<Customer, AppError> {
        caller.require_read(id)?;
        Ok(self.cache.customer(id, self.store.get_customer(id)).await?)
    }

    /// The calling customer's own record (staff have none: 404).
    pub async fn my_customer(&self, caller: &Principal) -> Result<Customer, AppError> {
        let id = caller.customer_id.ok_or(AppError::NotFound)?;
        self.get_customer(caller, id).await
    }

    /// Lists customers (staff only).
    pub async fn list_customers(
        &self,
        caller: &Principal,
        query: ListCustomers,
    ) -> Result<Page<Customer>, AppError> {
        // The role first: a customer learns nothing about the filters' rules.
        caller.require_staff()?;
        let page = PageRequest::new(query.page, query.limit)?;
        let filter = CustomerFilter {
            kyc_status: query.kyc_status,
            query: search_query(query.q.as_deref())?,
        };
        Ok(self.store.list_customers(&filter, page).await?)
    }

    /// Records a teller's KYC decision. In the same transaction, the customer's `PENDING_KYC`
    /// accounts become `ACTIVE` on `VERIFIED`, and are closed on `REJECTED` (never having been
    /// active, they hold no money).
    pub async fn decide_kyc(
        &self,
        caller: &Principal,
        id: CustomerId,
        request: DecideKyc,
    ) -> Result<Customer, AppError> {
        caller.require_servicing_staff()?;
        let reason = request
            .reason
            .as_deref()
            .map(coffre_domain::account::parse_reason)
            .transpose()
            .map_err(|e| AppError::invalid("reason", e))?;
        let decision = request.decision;
        let now = self.clock.now();
        // The accounts the decision may open or close, for the cache to forget.
        let changed = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&changed);
        let customer = self
            .store
            .update_customer(
                id,
                caller.actor(),
                move |customer: &mut Customer, accounts: &mut [coffre_domain::Account]| {
                    record
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend(accounts.iter().map(|account| account.id));
                    customer
                        .decide_kyc(decision, reason, now)
                        .map_err(|e| match e {
                            CustomerError::KycAlreadyDecided => AppError::Conflict(e.to_string()),
                            other => AppError::invalid("decision", other),
                        })?;
                    for account in accounts.iter_mut() {
                        match decision {
                            KycDecision::Verified => account.activate_after_kyc(now),
                            KycDecision::Rejected => account.close_after_kyc_rejection(now),
                        };
                    }
                    Ok::<(), AppError>(())
                },
            )
            .await;
        // Forgotten whatever the result: a failed commit may still have happened.
        let changed = std::mem::take(&mut *changed.lock().unwrap_or_else(PoisonError::into_inner));
        self.cache.forget_customer(id, &changed).await;
        let customer = customer?;
        tracing::info!(customer_id = %id, decision = customer.kyc_status.as_str(), "KYC decided");
        Ok(customer)
    }
}
