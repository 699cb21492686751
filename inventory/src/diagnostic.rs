//! Problems found in an inventory, each pointing at a file, line and column, with a hint.
//! They render as miette diagnostics with a source snippet, or as one plain line each.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// A file's name and text, shared by the problems that point into it.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// The text as snippets show it: literal secrets masked, byte offsets unchanged.
    shown: Arc<str>,
}

/// Keys whose value is a secret written literally (`community: public`).
const SECRET_KEYS: [&str; 3] = ["community", "auth_pass", "priv_pass"];

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let shown = mask_secrets(&text).into();
        Self {
            path,
            text: text.into(),
            shown,
        }
    }
}

/// Replaces the value after each secret key with `*`, byte for byte, so that no snippet of
/// the file (even of a file that does not parse) shows a secret.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut masked = line.to_owned();
        for key in SECRET_KEYS {
            let mut from = 0;
            while let Some(found) = masked[from..].find(key) {
                let start = from + found;
                from = start + key.len();
                let starts_word = masked[..start]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric() && c != '_');
                let rest = &masked[from..];
                let colon = rest
                    .find(':')
                    .filter(|&i| rest[..i].trim().trim_matches(['"', '\'']).is_empty());
                let (true, Some(colon)) = (starts_word, colon) else {
                    continue;
                };
                let value_start = from + colon + 1;
                let value_end = masked[value_start..]
                    .find([',', '}', '\n', '#'])
                    .map_or(masked.len(), |end| value_start + end);
                let stars: String = masked[value_start..value_end]
                    .chars()
                    .map(|c| match c {
                        c if c.is_whitespace() => c.to_string(),
                        c => "*".repeat(c.len_utf8()),
                    })
                    .collect();
                masked.replace_range(value_start..value_end, &stars);
            }
        }
        out.push_str(&masked);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One thing wrong with an inventory file.
#[derive(Clone)]
pub struct Problem {
    pub severity: Severity,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: Option<String>,
    offset: usize,
    len: usize,
    source: Arc<SourceFile>,
    named: NamedSource<Arc<str>>,
}

impl Problem {
    pub(crate) fn new(
        severity: Severity,
        source: &Arc<SourceFile>,
        pos: crate::load::Pos,
        message: String,
        hint: Option<String>,
    ) -> Self {
        Self {
            severity,
            line: pos.line,
            column: pos.column,
            message,
            hint,
            offset: pos.offset.min(source.text.len()),
            len: pos.len,
            named: NamedSource::new(source.path.display().to_string(), Arc::clone(&source.shown))
                .with_language("yaml"),
            source: Arc::clone(source),
        }
    }

    pub fn file(&self) -> &Path {
        &self.source.path
    }
}

impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("severity", &self.severity)
            .field("file", &self.source.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("message", &self.message)
            .field("hint", &self.hint)
            .finish()
    }
}

/// The message alone: the renderer shows the place and the hint around it.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.named)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_with_span(Some("here".into()), (self.offset, self.len));
        Some(Box::new(std::iter::once(label)))
    }
}

/// Every problem that made an inventory unusable, reported together.
#[derive(Debug)]
pub struct InventoryError {
    pub problems: Vec<Problem>,
}

impl InventoryError {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors().count();
        let noun = if count == 1 { "error" } else { "errors" };
        write!(f, "the inventory has {count} {noun}")
    }
}

impl std::error::Error for InventoryError {}

impl Diagnostic for InventoryError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("sixfive::inventory"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    #[test]
    fn literal_secrets_are_masked_and_offsets_kept() {
        let text = "snmp: {version: 2c, community: pübl1c}\n  auth_pass: 's3cret' # demo\n  community_env: VAR\n";
        let shown = mask_secrets(text);
        assert_eq!(shown.len(), text.len());
        assert!(
            !shown.contains("pübl1c") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(
            shown.contains("community_env: VAR"),
            "names of variables stay: {shown}"
        );
        assert!(shown.contains("# demo"));
    }
}
