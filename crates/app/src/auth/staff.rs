//! Creating staff users from the command line.

use coffre_domain::{Password, Role, UserId, Username};
use uuid::Uuid;

use crate::ports::{Clock, Storage, UserRecord};
use crate::{AppError, Service};

impl<S: Storage, C: Clock> Service<S, C> {
    /// Creates a staff user (`teller`, `admin`, `auditor`). Customers sign up instead.
    pub async fn create_staff_user(
        &self,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<UserId, AppError> {
        if role == Role::Customer {
            return Err(AppError::invalid(
                "role",
                "customers sign up through POST /v1/customers",
            ));
        }
        let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
        let password = Password::parse(password, &[username.as_str()])
            .map_err(|e| AppError::invalid("password", e))?;
        let password_hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(AppError::from_hasher)?;
        let user = UserRecord {
            id: UserId(Uuid::now_v7()),
            username,
            password_hash,
            role,
            customer_id: None,
            created_at: self.clock.now(),
        };
        self.store.insert_user(&user).await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "staff user created");
        Ok(user.id)
    }
}
