//! Live sessions per user are capped: a login beyond the cap ends the user's oldest session.

use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::{TestApp, assert_problem};

/// The test apps' cap (`ServiceConfig::max_sessions_per_user`, as `test_config` sets it).
const CAP: usize = 10;

async fn a_login_beyond_the_cap_ends_the_oldest_session(app: TestApp) -> anyhow::Result<()> {
    let oldest = app.teller().await?;
    let second = app.teller().await?;
    for _ in 2..CAP {
        app.teller().await?;
    }
    assert_eq!(
        oldest.get("/v1/customers").await?.status(),
        StatusCode::OK,
        "at the cap, every session lives"
    );
    let newest = app.teller().await?;
    assert_problem(
        oldest.get("/v1/customers").await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    assert_eq!(second.get("/v1/customers").await?.status(), StatusCode::OK);
    assert_eq!(newest.get("/v1/customers").await?.status(), StatusCode::OK);
    assert_eq!(app.count("sessions").await?, i64::try_from(CAP)?);
    Ok(())
}

both_engines!(a_login_beyond_the_cap_ends_the_oldest_session);
