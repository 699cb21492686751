//! The agent's web configuration (`--web.config.file`) in Prometheus exporter-toolkit's
//! format, so that a Prometheus set up for blackbox or snmp exporters scrapes the agent the
//! same way: TLS for the endpoint (`tls_server_config`: `cert_file`, `key_file`, relative to
//! the file) and basic auth users with bcrypt hashes (`basic_auth_users`). Options of the
//! toolkit that sixfive does not implement (client certificates, cipher lists, HTTP/2
//! headers) are refused by name rather than ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;

use crate::Failure;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    /// User name to bcrypt hash.
    #[serde(default)]
    pub basic_auth_users: BTreeMap<String, Hash>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// A bcrypt hash: no secret, but nothing to print either.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Hash(String);

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<bcrypt hash>")
    }
}

/// Reads the web config at `path`; its files are taken relative to its folder.
pub fn load(path: &Path) -> Result<WebConfig, Failure> {
    let bad = |why: String| Failure::Usage(format!("web config {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let mut config: WebConfig = if text.trim().is_empty() {
        WebConfig::default()
    } else {
        serde_saphyr::from_str(&text).map_err(|e| bad(e.to_string()))?
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    if let Some(tls) = &mut config.tls_server_config {
        tls.cert_file = folder.join(&tls.cert_file);
        tls.key_file = folder.join(&tls.key_file);
    }
    for (user, hash) in &config.basic_auth_users {
        // A hash that cannot be one would refuse that user forever, silently.
        if !hash.0.starts_with("$2") || hash.0.len() != 60 {
            return Err(bad(format!(
                "basic_auth_users.{user}: not a bcrypt hash (htpasswd -nBC 10 \"\" | tr -d ':\\n')"
            )));
        }
        // Each request checks a password at the hash's cost, which doubles per step: at
        // 31, one check (and the agent's start, which hashes at the users' cost) takes days.
        match hash.cost() {
            Some(cost) if (4..=MAX_COST).contains(&cost) => {}
            _ => {
                return Err(bad(format!(
                    "basic_auth_users.{user}: a bcrypt cost from 4 to {MAX_COST}, as one \
                     check per request must take well under a second (htpasswd -nBC 10)"
                )));
            }
        }
    }
    Ok(config)
}

/// The highest bcrypt cost taken: about a second a check on one core.
const MAX_COST: u32 = 14;

impl Hash {
    /// The cost written in the hash (`$2b$10$…`), when it is a bcrypt hash bcrypt reads.
    fn cost(&self) -> Option<u32> {
        self.0
            .parse::<bcrypt::HashParts>()
            .ok()
            .map(|parts| parts.get_cost())
    }
}

/// Who may ask: every request when no user is configured.
#[derive(Clone, Debug)]
pub struct Users {
    users: Arc<BTreeMap<String, Hash>>,
    /// Checked against for an unknown user, at the users' highest cost: what it hashes
    /// does not matter, as an unknown user is refused whatever it says.
    nobody: Arc<String>,
    /// bcrypt checks at once: a flood of wrong passwords must not take the scanner's cores.
    checking: Arc<tokio::sync::Semaphore>,
}

impl Users {
    pub fn new(users: BTreeMap<String, Hash>) -> Self {
        let cost = (users.values())
            .filter_map(Hash::cost)
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        let nobody = if users.is_empty() {
            String::new()
        } else {
            bcrypt::hash("nobody", cost).unwrap_or_default()
        };
        Self {
            users: Arc::new(users),
            nobody: Arc::new(nobody),
            checking: Arc::new(tokio::sync::Semaphore::new(2)),
        }
    }

    /// Whether `user` with `password` is one of them. An unknown user costs a bcrypt check
    /// too, so that timing does not tell which users exist.
    fn admit(&self, user: &str, password: &str) -> bool {
        let (hash, known) = match self.users.get(user) {
            Some(hash) => (hash.0.as_str(), true),
            None => (self.nobody.as_str(), false),
        };
        bcrypt::verify(password, hash).unwrap_or(false) && known
    }
}

/// The user and password of an `Authorization: Basic …` header's value, as a client sent
/// it: any bytes.
fn basic_credentials(value: &[u8]) -> Option<(String, String)> {
    // Visible ASCII and tabs, as a header value's text must be (HeaderValue::to_str).
    if !value
        .iter()
        .all(|b| *b == b'\t' || (0x20..0x7f).contains(b))
    {
        return None;
    }
    let value = std::str::from_utf8(value).ok()?;
    // The scheme's name is case-insensitive (RFC 7617).
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (user, password) = pair.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Lets a request through when basic auth is off or its credentials are a user's; answers
/// 401 with a challenge otherwise. The bcrypt check runs off the async threads.
pub async fn authorize(State(users): State<Users>, request: Request, next: Next) -> Response {
    if users.users.is_empty() {
        return next.run(request).await;
    }
    let credentials = (request.headers().get(header::AUTHORIZATION))
        .and_then(|value| basic_credentials(value.as_bytes()));
    let admitted = match credentials {
        Some((user, password)) => match users.checking.clone().acquire_owned().await {
            Ok(permit) => {
                let users = users.clone();
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    users.admit(&user, &password)
                })
                .await
                .unwrap_or(false)
            }
            Err(_) => false,
        },
        None => false,
    };
    if admitted {
        return next.run(request).await;
    }
    let mut refused = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
    refused.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"sixfive\""),
    );
    refused
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // The header is bytes from the network that sixfive reads itself; the binary crate is
    // not a library a cargo-fuzz target can link (fuzz/README.md), so proptest fuzzes it.
    proptest! {
        // The same inputs every run, as the fuzz crate's (PROPTEST_RNG_SEED explores).
        #![proptest_config(ProptestConfig {
            rng_seed: match ProptestConfig::default().rng_seed {
                prop::test_runner::RngSeed::Random => prop::test_runner::RngSeed::Fixed(0x5f1e),
                chosen => chosen,
            },
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_authorization_header_is_read_or_refused(value in prop::collection::vec(any::<u8>(), 0..256)) {
            let read = basic_credentials(&value);
            let text = value.iter().all(|b| *b == b'\t' || (0x20..0x7f).contains(b));
            prop_assert!(text || read.is_none(), "{read:?} from {value:?}");
        }

        #[test]
        fn a_basic_header_gives_back_its_user_and_password(
            scheme in "[bB][aA][sS][iI][cC]",
            user in "[^:\\x00]{0,20}",
            password in "\\PC{0,40}",
        ) {
            use base64::Engine;
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let header = format!("{scheme} {encoded}");
            prop_assert_eq!(basic_credentials(header.as_bytes()), Some((user, password)));
        }
    }

    #[test]
    fn a_user_is_admitted_with_the_password_of_its_hash_only() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = Users::new(BTreeMap::from([("prometheus".into(), Hash(hash))]));
        assert!(users.admit("prometheus", "s3cret"));
        assert!(!users.admit("prometheus", "S3cret"));
        assert!(!users.admit("nobody", "s3cret"));
        // An unknown user is checked at the users' cost: as slow as a known one.
        assert_eq!(&users.nobody[..7], "$2b$04$");
    }

    #[test]
    fn a_colon_in_the_password_stays_in_the_password() {
        assert_eq!(
            basic_credentials(b"Basic dTpwOnE="),
            Some(("u".into(), "p:q".into()))
        );
    }

    #[test]
    fn files_are_relative_to_the_config_and_unknown_options_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: tls/cert.pem\n  key_file: tls/key.pem\n",
        )
        .unwrap();
        let tls = load(&path).unwrap().tls_server_config.unwrap();
        assert_eq!(tls.cert_file, dir.path().join("tls/cert.pem"));
        std::fs::write(&path, "tls_server_config:\n  client_ca_file: ca.pem\n").unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("client_ca_file"), "{error}");
        std::fs::write(&path, "basic_auth_users:\n  prometheus: plain\n").unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(
            error.contains("basic_auth_users.prometheus: not a bcrypt hash"),
            "{error}"
        );
        assert!(!error.contains("plain"), "{error}");
        for (cost, loads) in [(4, true), (14, true), (15, false)] {
            let hash =
                bcrypt::hash("s3cret", 4)
                    .unwrap()
                    .replacen("$04$", &format!("${cost:02}$"), 1);
            std::fs::write(
                &path,
                format!("basic_auth_users:\n  prometheus: '{hash}'\n"),
            )
            .unwrap();
            assert_eq!(load(&path).is_ok(), loads, "cost {cost}");
        }
        for version in ["2a", "2y"] {
            let hash = bcrypt::hash("s3cret", 4)
                .unwrap()
                .replacen("2b", version, 1);
            std::fs::write(
                &path,
                format!("basic_auth_users:\n  prometheus: '{hash}'\n"),
            )
            .unwrap();
            assert!(load(&path).is_ok(), "{version}");
        }
        let slow = format!("$2b$31${}", "a".repeat(53));
        std::fs::write(
            &path,
            format!("basic_auth_users:\n  prometheus: '{slow}'\n"),
        )
        .unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("a bcrypt cost from 4 to 14"), "{error}");
        assert!(!error.contains(&slow), "{error}");
    }
}
