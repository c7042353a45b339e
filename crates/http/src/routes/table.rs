//! The route table: every HTTP operation of the API, declared once (ADR 0020).
//!
//! A row names the handler, whose `#[utoipa::path]` gives the method, the path and the OpenAPI
//! entry; who may call it with an access token; the rate class it counts against; and, where it
//! differs from the default, its error format, its listeners and a layer of its own. The router
//! ([`register`]), the OpenAPI document, the caller's required scope and the rate limiter's class
//! all read [`OPERATIONS`], so a new route cannot be served without the other three.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter};
use coffre_app::ports::{Clock, Storage};
use coffre_domain::oauth::Scope::{
    AccountsRead, AccountsWrite, AuditRead, CustomersRead, CustomersWrite, OpenId,
    TransactionsRead, TransactionsWrite,
};

use crate::operation::Listener::{Both, Metrics};
use crate::operation::TokenAccess::{Closed, Scope, SessionOnly};
use crate::operation::{Documented, Operation, RateClass, method_filter};
use crate::routes::{
    accounts, audit, auth, authorize, customers, holds, mfa, oauth, ops, statements, transactions,
};
use crate::state::AppState;

/// Declares [`OPERATIONS`] and [`register`] from one list of rows, in the same order.
///
/// A row: `module::{handler<S, C>, __path_handler}: token access, rate class`, then optionally
/// `{ field: value, .. }` for the [`Operation`] fields that differ from [`Operation::declared`],
/// and `=> layer(..)` for a layer on the handler alone. `__path_handler` is the type
/// `#[utoipa::path]` generates beside the handler (a macro cannot build its name from the
/// handler's). `Uncounted` is the rate class of what the limiter never counts.
macro_rules! route_table {
    (@rate Uncounted) => { None };
    (@rate $class:ident) => { Some(RateClass::$class) };
    ($(
        $module:ident :: { $handler:ident $(<$($generic:ident),+>)?, $documented:ident }:
        $access:expr, $rate:ident
        $({ $($field:ident: $value:expr),+ $(,)? })?
        $(=> layer($layer:expr))?;
    )+) => {
        /// Every operation of the API, in the order the router registers them.
        pub static OPERATIONS: &[Operation] = &[$(
            Operation {
                $($($field: $value,)+)?
                ..Operation::declared(
                    concat!(stringify!($module), "::", stringify!($handler)),
                    $access,
                    route_table!(@rate $rate),
                    Documented::of::<$module::$documented>,
                )
            },
        )+];

        /// The handler of each row of [`OPERATIONS`], for one method.
        fn handlers<S: Storage, C: Clock>() -> Vec<fn(MethodFilter) -> MethodRouter<AppState<S, C>>> {
            vec![$(
                |filter| {
                    MethodRouter::new()
                        .on(filter, $module::$handler $(::<$($generic),+>)?)
                        $(.layer($layer))?
                },
            )+]
        }
    };
}

route_table! {
    auth::{login<S, C>, __path_login}: Closed, Auth;
    auth::{logout<S, C>, __path_logout}: Closed, Auth;
    authorize::{start<S, C>, __path_start}: Closed, Auth;
    authorize::{submit<S, C>, __path_submit}: Closed, Auth;
    oauth::{token<S, C>, __path_token}: Closed, Auth { oauth_errors: true };
    oauth::{refresh<S, C>, __path_refresh}: Closed, Auth { oauth_errors: true };
    oauth::{revoke<S, C>, __path_revoke}: Closed, Auth { oauth_errors: true };
    oauth::{introspect<S, C>, __path_introspect}: Closed, Auth { oauth_errors: true };
    oauth::{jwks<S, C>, __path_jwks}: Closed, Auth;
    oauth::{userinfo<S, C>, __path_userinfo}: Scope(OpenId), Auth;
    oauth::{userinfo_post<S, C>, __path_userinfo_post}: Scope(OpenId), Auth;
    oauth::{discovery<S, C>, __path_discovery}: Closed, Auth;
    oauth::{server_metadata<S, C>, __path_server_metadata}: Closed, Auth;
    customers::{sign_up<S, C>, __path_sign_up}: Scope(CustomersWrite), Write;
    customers::{list<S, C>, __path_list}: Scope(CustomersRead), Read;
    customers::{me<S, C>, __path_me}: Scope(CustomersRead), Read;
    customers::{get<S, C>, __path_get}: Scope(CustomersRead), Read;
    customers::{decide_kyc<S, C>, __path_decide_kyc}: Scope(CustomersWrite), Write;
    mfa::{start_totp<S, C>, __path_start_totp}: SessionOnly, Write;
    mfa::{confirm_totp<S, C>, __path_confirm_totp}: SessionOnly, Write;
    accounts::{open<S, C>, __path_open}: Scope(AccountsWrite), Write;
    accounts::{list<S, C>, __path_list}: Scope(AccountsRead), Read;
    accounts::{get<S, C>, __path_get}: Scope(AccountsRead), Read;
    accounts::{patch<S, C>, __path_patch}: Scope(AccountsWrite), Write;
    accounts::{put<S, C>, __path_put}: Scope(AccountsWrite), Write;
    accounts::{close<S, C>, __path_close}: Scope(AccountsWrite), Write;
    accounts::{freeze<S, C>, __path_freeze}: Scope(AccountsWrite), Write;
    accounts::{unfreeze<S, C>, __path_unfreeze}: Scope(AccountsWrite), Write;
    accounts::{balance<S, C>, __path_balance}: Scope(AccountsRead), Read;
    statements::{lines<S, C>, __path_lines}: Scope(TransactionsRead), Read;
    statements::{statement<S, C>, __path_statement}: Scope(AccountsRead), Read;
    holds::{place<S, C>, __path_place}: Scope(TransactionsWrite), Write;
    holds::{get<S, C>, __path_get}: Scope(TransactionsRead), Read;
    holds::{capture<S, C>, __path_capture}: Scope(TransactionsWrite), Write;
    holds::{release<S, C>, __path_release}: Scope(TransactionsWrite), Write;
    transactions::{create<S, C>, __path_create}: Scope(TransactionsWrite), Write;
    transactions::{list<S, C>, __path_list}: Scope(TransactionsRead), Read;
    transactions::{batch<S, C>, __path_batch}: Scope(TransactionsWrite), Write
        => layer(DefaultBodyLimit::max(transactions::BATCH_BODY_LIMIT_BYTES));
    transactions::{get<S, C>, __path_get}: Scope(TransactionsRead), Read;
    transactions::{reverse<S, C>, __path_reverse}: Scope(TransactionsWrite), Write;
    audit::{events<S, C>, __path_events}: Scope(AuditRead), Read;
    audit::{verify<S, C>, __path_verify}: Scope(AuditRead), Read;
    audit::{trial_balance<S, C>, __path_trial_balance}: Scope(AuditRead), Read;
    ops::{live, __path_live}: Closed, Uncounted { listener: Both };
    ops::{ready<S, C>, __path_ready}: Closed, Uncounted { listener: Both };
    ops::{metrics<S, C>, __path_metrics}: Closed, Uncounted { listener: Metrics };
    ops::{openapi, __path_openapi}: Closed, Read;
    ops::{docs, __path_docs}: Closed, Read;
}

/// Adds to `router` every operation `keep` accepts, on its handler's path, for each of its
/// methods.
pub(crate) fn register<S: Storage, C: Clock>(
    router: Router<AppState<S, C>>,
    keep: impl Fn(&Operation) -> bool,
) -> Router<AppState<S, C>> {
    OPERATIONS
        .iter()
        .zip(handlers::<S, C>())
        .filter(|(operation, _)| keep(operation))
        .fold(router, |router, (operation, handler)| {
            let documented = (operation.documented)();
            documented.methods.iter().fold(router, |router, verb| {
                router.route(&documented.path, handler(method_filter(verb)))
            })
        })
}
