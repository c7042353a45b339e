//! The repository contract suite every Coffre store must pass, and throwaway databases for
//! tests.
//!
//! - [`contract`]: the contract, as generic async functions over any
//!   [`Storage`](coffre_app::ports::Storage);
//! - [`contract_tests!`]: expands to one named `#[tokio::test]` per contract function, so that
//!   each store crate runs the whole suite with one line in its `tests/contract.rs`;
//! - [`postgres_server`]: a PostgreSQL server started by the tests themselves, one per test
//!   process, with a fresh database per test;
//! - [`fresh_sqlite_url`]: a SQLite database file in a temporary directory;
//! - [`redis_server`]: a Redis server started by one test, which may stop it midway.

pub mod contract;
pub mod postgres_server;
pub mod redis_server;

pub use postgres_server::fresh_database_url;

/// A URL for a new SQLite database file in a new temporary directory, which is deleted (with
/// the database) when the returned guard is dropped: keep it alive as long as the store.
pub async fn fresh_sqlite_url() -> anyhow::Result<(String, tempfile::TempDir)> {
    use anyhow::Context;
    let directory = tempfile::Builder::new()
        .prefix("coffre-sqlite-")
        .tempdir()
        .context("failed to create a temporary directory for SQLite")?;
    let path = directory.path().join("coffre.sqlite3");
    let path = path
        .to_str()
        .context("the temporary directory's path is not UTF-8")?;
    Ok((format!("sqlite://{path}"), directory))
}

/// Expands to one `#[tokio::test]` per contract function, each on a fresh store.
///
/// `$fresh_store` is an async function returning `anyhow::Result<(store, guard)>`: a newly
/// migrated store, and whatever must stay alive as long as it (a temporary directory, or `()`).
/// The invoking crate needs `tokio` and `anyhow`.
///
/// ```text
/// async fn fresh_store() -> anyhow::Result<(SqliteStore, tempfile::TempDir)> { ... }
/// coffre_store_tests::contract_tests!(fresh_store);
/// ```
#[macro_export]
macro_rules! contract_tests {
    ($fresh_store:path) => {
        $crate::contract_tests!(@each $fresh_store;
            ping_answers,
            customer_round_trips,
            instants_are_kept_to_the_microsecond,
            a_duplicate_email_is_a_conflict,
            a_duplicate_username_is_a_conflict,
            a_missing_customer_is_not_found,
            a_kyc_verification_activates_pending_accounts_atomically,
            a_refused_customer_update_changes_nothing,
            customers_are_listed_newest_first_with_filters,
            customer_search_is_a_case_insensitive_substring,
            customer_pages_follow_the_order_and_count_every_match,
            customer_search_treats_wildcards_literally,
            account_round_trips,
            a_refused_account_opening_stores_nothing,
            a_duplicate_iban_is_a_conflict,
            a_second_open_livret_a_is_a_conflict_until_the_first_is_closed,
            a_missing_account_is_not_found,
            an_account_update_is_written_back_only_when_its_version_changes,
            a_refused_account_update_changes_nothing,
            accounts_are_listed_newest_first_with_filters,
            account_pages_follow_the_order_and_count_every_match,
            a_staff_user_round_trips,
            a_session_is_found_with_its_user_touched_and_deleted,
            a_new_session_replaces_the_old_one,
            throttle_state_is_read_modified_and_cleared,
            concurrent_account_updates_are_never_lost,
            concurrent_throttle_updates_are_never_lost,
            ended_sessions_and_stale_throttles_are_purged,
            money_moves_and_reads_back,
            a_refused_request_writes_nothing,
            atomic_batches_write_all_or_nothing,
            idempotency_keys_replay_and_refuse_reuse,
            holds_reserve_until_captured_released_or_expired,
            a_transaction_is_reversed_once,
            closing_with_a_pending_hold_is_refused,
            statement_lines_paginate_and_filter,
            foundation_writes_append_events,
            the_event_chain_verifies,
            the_trial_balance_is_zero,
            concurrent_transfers_keep_the_books_balanced,
            a_refusal_in_a_group_does_not_affect_its_neighbours,
            concurrent_requests_are_coalesced_and_answered_one_by_one,
            oauth_clients_round_trip_with_their_service_user,
            a_client_whose_service_user_is_refused_is_not_stored,
            an_authorization_code_is_taken_once_and_never_after_it_expires,
            a_refresh_token_rotates_and_its_replay_revokes_the_family,
            unknown_expired_and_revoked_refresh_tokens_are_invalid,
            concurrent_rotations_of_one_refresh_token_rotate_it_once,
            revoking_a_user_s_refresh_families_spares_other_users,
            access_token_revocation_is_idempotent,
            expired_oauth_grants_are_purged_and_live_ones_kept,
            a_session_keeps_how_its_user_authenticated,
            a_totp_enrolment_is_created_changed_and_deleted,
            a_refused_totp_update_changes_nothing,
            a_totp_update_for_an_unknown_user_is_not_found,
            a_totp_update_returning_another_user_s_enrolment_is_refused,
            concurrent_uses_of_one_totp_code_accept_it_once,
            concurrent_first_enrolments_store_one,
            an_mfa_challenge_is_found_and_deleted_once,
            expired_mfa_challenges_are_purged_and_live_ones_kept,
        );
    };
    (@each $fresh_store:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() -> anyhow::Result<()> {
                let (store, _guard) = $fresh_store().await?;
                $crate::contract::$test(&store).await
            }
        )*
    };
}
