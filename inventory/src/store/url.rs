//! Where the store lives: a SQLite file (the default, under the XDG data directory) or a
//! PostgreSQL server. PostgreSQL URLs are parsed here rather than by sqlx, which passes
//! `[::1]` to getaddrinfo with its brackets and makes up a user; and a URL prints without
//! its password.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

#[derive(Clone)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres {
        options: Box<PgConnectOptions>,
        /// How long the first connection may take (`?connect_timeout=SECONDS`).
        connect_timeout: Duration,
    },
}

/// Rather than libpq's unlimited default: a store that does not answer within seconds is
/// down, or packets to it are dropped.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl StoreUrl {
    /// `$XDG_DATA_HOME/sixfive/sixfive.db`, else `~/.local/share/sixfive/sixfive.db`.
    pub fn default_sqlite() -> Result<Self, UrlError> {
        let dir =
            crate::xdg::sixfive_dir("XDG_DATA_HOME", ".local/share").ok_or(UrlError::NoDataDir)?;
        Ok(StoreUrl::Sqlite(dir.join("sixfive.db")))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("neither XDG_DATA_HOME nor HOME is set: give the store with --db")]
    NoDataDir,
    #[error("`{0}` is not a store URL: use a file path, sqlite://PATH or postgres://user@host/db")]
    Scheme(String),
    #[error("bad PostgreSQL URL: {0}")]
    Postgres(String),
}

impl FromStr for StoreUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return postgres(text);
        }
        if text.contains("://") {
            return Err(UrlError::Scheme(redact(text)));
        }
        Ok(StoreUrl::Sqlite(PathBuf::from(text)))
    }
}

fn postgres(text: &str) -> Result<StoreUrl, UrlError> {
    let bad = |why: String| UrlError::Postgres(why);
    let url = url::Url::parse(text).map_err(|e| bad(format!("{e} in {}", redact(text))))?;
    let decode = |s: &str| {
        percent_decode(s).ok_or_else(|| bad(format!("bad percent-encoding in {}", redact(text))))
    };
    let mut options = PgConnectOptions::new_without_pgpass();
    match url.host() {
        Some(url::Host::Ipv6(ip)) => options = options.host(&ip.to_string()),
        Some(url::Host::Ipv4(ip)) => options = options.host(&ip.to_string()),
        Some(url::Host::Domain(name)) if !name.is_empty() => options = options.host(&decode(name)?),
        _ => {}
    }
    if let Some(port) = url.port() {
        options = options.port(port);
    }
    // Without one sqlx would log in as whoever it guesses (`anonymous` on some systems).
    if url.username().is_empty() {
        return Err(bad(format!(
            "no user in {}: write postgres://USER@host/db",
            redact(text)
        )));
    }
    options = options.username(&decode(url.username())?);
    if let Some(password) = url.password() {
        options = options.password(&decode(password)?);
    }
    let database = url.path().trim_start_matches('/');
    if !database.is_empty() {
        options = options.database(&decode(database)?);
    }
    let mut connect_timeout = CONNECT_TIMEOUT;
    for (key, value) in url.query_pairs() {
        options = match key.as_ref() {
            "host" => options.host(&value),
            "connect_timeout" => {
                connect_timeout = value
                    .parse()
                    .ok()
                    .filter(|&seconds| seconds > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| bad(format!("connect_timeout={value} is not whole seconds")))?;
                options
            }
            "sslmode" => {
                options.ssl_mode(value.parse::<PgSslMode>().map_err(|e| bad(e.to_string()))?)
            }
            "application_name" => options.application_name(&value),
            other => return Err(bad(format!("unsupported parameter `{other}`"))),
        };
    }
    Ok(StoreUrl::Postgres {
        options: Box::new(options),
        connect_timeout,
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with any password replaced, for messages.
fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => text.to_owned(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Postgres { options, .. } => {
                let host = options.get_host();
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.to_owned()
                };
                write!(
                    f,
                    "postgres://{}@{host}:{}/{}",
                    options.get_username(),
                    options.get_port(),
                    options.get_database().unwrap_or("")
                )
            }
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str) -> PgConnectOptions {
        match text.parse::<StoreUrl>().unwrap() {
            StoreUrl::Postgres { options, .. } => *options,
            other => panic!("not postgres: {other}"),
        }
    }

    #[test]
    fn ipv6_literals_lose_their_brackets() {
        let options = pg("postgres://sixfive:p%40ss@[fd00::5]:6432/inventory?sslmode=disable");
        assert_eq!(options.get_host(), "fd00::5");
        assert_eq!(options.get_port(), 6432);
        assert_eq!(options.get_username(), "sixfive");
        assert_eq!(options.get_database(), Some("inventory"));
    }

    #[test]
    fn a_url_prints_without_its_password() {
        let url: StoreUrl = "postgresql://u:topsecret@[::1]/db".parse().unwrap();
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("postgres://u@[::1]:5432/db"), "{shown}");
        let error = "mysql://u:topsecret@h/db".parse::<StoreUrl>().unwrap_err();
        assert!(!error.to_string().contains("topsecret"));
    }

    #[test]
    fn paths_and_sqlite_urls_are_files() {
        for (text, path) in [
            ("/tmp/a.db", "/tmp/a.db"),
            ("sqlite:///tmp/a.db", "/tmp/a.db"),
            ("sqlite://rel.db", "rel.db"),
        ] {
            match text.parse::<StoreUrl>().unwrap() {
                StoreUrl::Sqlite(parsed) => assert_eq!(parsed, std::path::Path::new(path)),
                other => panic!("{text} parsed as {other}"),
            }
        }
    }

    #[test]
    fn unknown_parameters_are_refused() {
        assert!("postgres://u@h/db?bogus=1".parse::<StoreUrl>().is_err());
    }

    #[test]
    fn a_url_needs_a_user_and_may_set_the_connect_timeout() {
        let error = "postgres://:pw@[::1]/db".parse::<StoreUrl>().unwrap_err();
        assert!(error.to_string().contains("no user"), "{error}");
        assert!(!error.to_string().contains("pw"), "{error}");
        let timeout = |text: &str| match text.parse::<StoreUrl>() {
            Ok(StoreUrl::Postgres {
                connect_timeout, ..
            }) => Ok(connect_timeout),
            Ok(other) => panic!("not postgres: {other}"),
            Err(error) => Err(error),
        };
        assert_eq!(timeout("postgres://u@h/db"), Ok(Duration::from_secs(5)));
        assert_eq!(
            timeout("postgres://u@h/db?connect_timeout=2"),
            Ok(Duration::from_secs(2))
        );
        assert!(timeout("postgres://u@h/db?connect_timeout=0").is_err());
        assert!(timeout("postgres://u@h/db?connect_timeout=2s").is_err());
    }
}
