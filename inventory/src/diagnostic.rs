//! Problems found in an inventory, each pointing at a file, line and column, with a hint.
//! They render as miette diagnostics with a source snippet, or as one plain line each.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// A file's name and text, shared by the problems that point into it.
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// The text as snippets show it: literal secrets masked, byte offsets unchanged.
    shown: Arc<str>,
}

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

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Whether a key may hold a secret: anything naming a community, a pass(phrase) or a
/// secret, even misspelt (`comunity`), except the names of where secrets live (`*_env`, `*_file`).
fn secret_key(key: &str) -> bool {
    let key = key.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    let names_place = key.ends_with("_env") || key.ends_with("_file");
    !names_place
        && ["com", "pas", "secret", "key"]
            .iter()
            .any(|word| key.contains(word))
}

/// Replaces secret values with `*`, byte for byte, so that no snippet of the file (even
/// of a file that does not parse) shows one. A block value (`community: |`) is masked on
/// the lines below it too.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut block_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if let Some(key_indent) = block_indent {
            if line.trim().is_empty() || indent > key_indent {
                out.push_str(&stars(line));
                continue;
            }
            block_indent = None;
        }
        let mut masked = line.to_owned();
        let mut key_start = 0;
        let bytes = line.as_bytes();
        for (i, byte) in bytes.iter().enumerate() {
            match byte {
                b'{' | b',' | b'-' if i < line.len() => key_start = i + 1,
                b':' if secret_key(&line[key_start..i]) => {
                    let in_flow = line[..key_start].contains('{');
                    let value_end = if in_flow {
                        line[i + 1..]
                            .find([',', '}'])
                            .map_or(line.len(), |end| i + 1 + end)
                    } else {
                        line.trim_end_matches(['\n', '\r']).len()
                    };
                    let value = &line[i + 1..value_end];
                    if value.trim().is_empty() || value.trim().starts_with(['|', '>']) {
                        block_indent = Some(indent);
                    }
                    masked.replace_range(i + 1..value_end, &stars(value));
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&masked);
    }
    out
}

/// `*` for every byte but white space and line ends, so offsets do not move.
fn stars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_whitespace() => c.to_string(),
            c => "*".repeat(c.len_utf8()),
        })
        .collect()
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
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    #[test]
    fn secret_values_are_masked_and_offsets_kept() {
        let text = "snmp: {version: 2c, community: pübl1c, port: 161}\n  auth_pass: 's3#cr,et' # demo\n  community_env: VAR\n  comunity: typo-secret\n  priv_pass: |\n    block-secret\n  user: ops\n";
        let shown = mask_secrets(text);
        assert_eq!(shown.len(), text.len());
        for secret in ["pübl1c", "s3#cr", "typo-secret", "block-secret"] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
        for kept in [
            "community_env: VAR",
            "user: ops",
            "port: 161",
            "version: 2c",
        ] {
            assert!(shown.contains(kept), "{kept} is gone from {shown}");
        }
    }
}
