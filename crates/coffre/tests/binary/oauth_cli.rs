//! `coffre admin create-client` and `coffre admin rotate-keys` with the real binary: a client
//! registered on the command line gets tokens, and after a key rotation a running server signs
//! with the new key while tokens signed with the old one keep working until they expire.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::support::{STAFF_PASSWORD, Site, audit_status, json_line};

fn kid_of(token: &str) -> anyhow::Result<String> {
    let header = token.split('.').next().context("no header")?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
    header["kid"].as_str().map(str::to_owned).context("no kid")
}

async fn password_token(url: &str, client: &Value) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{url}/oauth/token"))
        .basic_auth(
            client["client_id"].as_str().context("client_id")?,
            client["client_secret"].as_str(),
        )
        .form(&[
            ("grant_type", "password"),
            ("username", "root"),
            ("password", STAFF_PASSWORD),
            ("scope", "audit:read"),
        ])
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "token: {}", response.status());
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("access_token")
}

/// The status of an introspection of `token` by `client`.
async fn introspect(url: &str, client: &Value, token: &str) -> anyhow::Result<u16> {
    let response = reqwest::Client::new()
        .post(format!("{url}/oauth/introspect"))
        .basic_auth(
            client["client_id"].as_str().context("client_id")?,
            client["client_secret"].as_str(),
        )
        .form(&[("token", token)])
        .send()
        .await?;
    Ok(response.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_from_the_command_line_get_tokens_across_a_key_rotation() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    // The server re-reads its keys every second (default 10 s), to keep the test short.
    std::fs::write(
        data_dir.path().join("coffre.toml"),
        "[auth]\nkey_reload_s = 1\n",
    )?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    };
    site.create_user("root", "admin")?;
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Back office",
        "--type",
        "confidential",
        "--grant",
        "password",
        "--grant",
        "refresh_token",
        "--scope",
        "audit:read",
        "--first-party",
    ])?;
    assert!(ok, "{err}");
    let client = json_line(&out)?;
    assert!(client["client_secret"].is_string(), "{client}");
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Mobile",
        "--type",
        "public",
        "--redirect-uri",
        "http://127.0.0.1:7777/cb",
    ])?;
    assert!(ok, "{err}");
    let public = json_line(&out)?;
    assert!(public.get("client_secret").is_none(), "{public}");
    // The BCP's rule, enforced at registration: no password grant for third parties.
    let (ok, _, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Other",
        "--type",
        "confidential",
        "--grant",
        "password",
    ])?;
    assert!(!ok);
    assert!(err.contains("first-party"), "{err}");
    // A resource server: no grant, may introspect; a public client may not be one.
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Ledger API",
        "--type",
        "confidential",
        "--introspect",
    ])?;
    assert!(ok, "{err}");
    let resource_server = json_line(&out)?;
    let (ok, _, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Spy",
        "--type",
        "public",
        "--introspect",
    ])?;
    assert!(!ok);
    assert!(err.contains("introspect"), "{err}");

    let server = site.serve()?;
    let old_token = password_token(&server.url, &client).await?;
    let old_kid = kid_of(&old_token)?;
    assert_eq!(audit_status(&server.url, &old_token).await?, 200);
    assert_eq!(
        introspect(&server.url, &resource_server, &old_token).await?,
        200
    );
    assert_eq!(introspect(&server.url, &client, &old_token).await?, 401);

    let (ok, out, err) = site.run(&["admin", "rotate-keys"])?;
    assert!(ok, "{err}");
    let new_kid = json_line(&out)?["kid"].as_str().context("kid")?.to_owned();
    assert_ne!(new_kid, old_kid);
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_token = loop {
        let token = password_token(&server.url, &client).await?;
        if kid_of(&token)? == new_kid {
            break token;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server never signed with the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(audit_status(&server.url, &new_token).await?, 200);
    // Signed before the rotation, still within its 15 minutes: still good.
    assert_eq!(audit_status(&server.url, &old_token).await?, 200);
    let jwks: Value = reqwest::get(format!("{}/oauth/jwks", server.url))
        .await?
        .json()
        .await?;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert_eq!(kids, vec![new_kid.as_str(), old_kid.as_str()]);
    server.kill()?;
    Ok(())
}
