//! The UI's config file, `$XDG_CONFIG_HOME/sixfive/tui.toml` (else
//! `~/.config/sixfive/tui.toml`): keys in `[bindings]`, colours in `[theme-colors]`, as
//! trippy's config overrides its own, and the language of the report `x` writes on the
//! overview (`report-lang`, en or vi). A bad file is refused with its path, line and
//! key before the terminal is taken over.
//!
//! ```toml
//! report-lang = "vi"
//!
//! [bindings]
//! recheck = "R"
//! down = ["j", "ctrl+n"]
//!
//! [theme-colors]
//! level-ready = "lightgreen"
//! state-critical = "#ff5f00"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use ratatui::style::Color;
use serde::Deserialize;

use sixfive_report::progress::Lang;

use crate::keys::{Action, Bindings, Key};
use crate::render::Colors;

/// The config as read: the bindings and colours that apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub bindings: Bindings,
    pub colors: Colors,
    pub report_lang: Lang,
}

/// A config file that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    report_lang: Option<String>,
    #[serde(default)]
    bindings: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    theme_colors: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Config {
    /// Where the config file is looked for.
    pub fn default_path() -> Option<PathBuf> {
        sixfive_inventory::xdg::sixfive_dir("XDG_CONFIG_HOME", ".config")
            .map(|dir| dir.join("tui.toml"))
    }

    /// The config at `path`; the defaults when there is no file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError {
                path: path.to_owned(),
                line: None,
                message: format!("cannot read it: {e}"),
            }),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let error = |line: Option<usize>, message: String| ConfigError {
            path: path.to_owned(),
            line,
            message,
        };
        // The line of a table's key, for errors found after parsing.
        let line_of = |table: &str, key: &str| {
            let mut in_table = false;
            text.lines()
                .position(|line| {
                    let line = line.trim();
                    if line.starts_with('[') {
                        in_table = line == format!("[{table}]");
                        return false;
                    }
                    in_table
                        && line
                            .split_once('=')
                            .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
                })
                .map(|i| i + 1)
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            error(line, e.message().to_owned())
        })?;
        let mut config = Config::default();
        if let Some(lang) = &file.report_lang {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("report-lang"));
            config.report_lang = lang
                .parse()
                .map_err(|why| error(line.map(|i| i + 1), format!("report-lang: {why}")))?;
        }
        // A key the file gives two actions would leave one of them keyless, unnoticed.
        let mut claimed: HashMap<Key, &str> = HashMap::new();
        for (name, keys) in &file.bindings {
            let action = Action::named(name).ok_or_else(|| {
                error(
                    line_of("bindings", name),
                    format!(
                        "[bindings] has no action `{name}`; the actions are {}",
                        Action::names().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            let texts = match keys {
                OneOrMany::One(key) => std::slice::from_ref(key),
                OneOrMany::Many(keys) => keys.as_slice(),
            };
            let keys = texts
                .iter()
                .map(|text| Key::parse(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|why| {
                    error(
                        line_of("bindings", name),
                        format!("[bindings] {name}: {why}"),
                    )
                })?;
            for key in &keys {
                if let Some(other) = claimed.insert(*key, name) {
                    return Err(error(
                        line_of("bindings", name),
                        format!("[bindings] {name} and {other} both take `{key}`"),
                    ));
                }
            }
            config.bindings.bind(action, &keys);
        }
        for (name, value) in &file.theme_colors {
            let line = line_of("theme-colors", name);
            let slot = config.colors.slot(name).ok_or_else(|| {
                error(
                    line,
                    format!(
                        "[theme-colors] has no colour `{name}`; the colours are {}",
                        Colors::names().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            *slot = value.parse::<Color>().map_err(|_| {
                error(
                    line,
                    format!(
                        "[theme-colors] {name}: `{value}` is not a colour (a name such as red or lightgreen, #rrggbb, or 0-255)"
                    ),
                )
            })?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Pressed;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/home/lan/.config/sixfive/tui.toml"), text)
    }

    #[test]
    fn bindings_and_colours_override_the_defaults() {
        let config = parse(
            "[bindings]\nrecheck = \"R\"\ndown = [\"j\", \"ctrl+n\"]\n\n[theme-colors]\nlevel-ready = \"lightgreen\"\nstate-critical = \"#ff5f00\"\n",
        )
        .unwrap();
        let r = KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT);
        assert_eq!(
            config.bindings.press(r, None),
            Pressed::Action(Action::Recheck)
        );
        let ctrl_n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL);
        assert_eq!(
            config.bindings.press(ctrl_n, None),
            Pressed::Action(Action::Down)
        );
        assert_eq!(config.colors.ready, Color::LightGreen);
        assert_eq!(config.colors.critical, Color::Rgb(0xff, 0x5f, 0));
        assert_eq!(config.colors.broken, Colors::default().broken);
        assert_eq!(config.report_lang, Lang::En, "English unless asked");
        let vi = parse("report-lang = \"vi\"\n[bindings]\n").unwrap();
        assert_eq!(vi.report_lang, Lang::Vi);
        let error = parse("\nreport-lang = \"fr\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("unknown language `fr`"), "{error}");
    }

    #[test]
    fn a_bad_file_is_refused_with_its_path_line_and_key() {
        let error = parse("[bindings]\nquit = \"q\"\nrechek = \"R\"\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(
            error.to_string().starts_with(
                "/home/lan/.config/sixfive/tui.toml:3: [bindings] has no action `rechek`"
            ),
            "{error}"
        );
        let error = parse("[bindings]\n\nquit = \"hyper+q\"\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("`hyper+q` is not a key"), "{error}");
        let error = parse("[theme-colors]\nlevel-ready = \"greenish\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(
            error.message.contains("`greenish` is not a colour"),
            "{error}"
        );
        let error = parse("[theme-colors]\nlevel-redy = \"red\"\n").unwrap_err();
        assert!(error.message.contains("no colour `level-redy`"), "{error}");
        let error = parse("[bindings]\nquit = 3\n").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
        let error = parse("[bindings]\ndown = \"j\"\nsort = [\"s\", \"j\"]\n").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(
            error.message.contains("sort and down both take `j`"),
            "{error}"
        );
        let error = parse("[colours]\n").unwrap_err();
        assert_eq!(error.line, Some(1), "{error}");
        assert!(error.message.contains("colours"), "{error}");
    }

    #[test]
    fn no_file_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("tui.toml")).unwrap(),
            Config::default()
        );
    }
}
