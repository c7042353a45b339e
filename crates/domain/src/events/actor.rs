//! [`Actor`]: who caused a change, as the event log records it.

use crate::user::UserId;

/// Who caused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A logged-in user (customer or staff).
    User(UserId),
    /// Coffre itself (expiring holds, for instance).
    System,
}

impl Actor {
    /// The stored form: `user:<uuid>` or `system`.
    pub fn as_text(self) -> String {
        match self {
            Actor::User(id) => format!("user:{}", id.0),
            Actor::System => "system".to_owned(),
        }
    }
}
