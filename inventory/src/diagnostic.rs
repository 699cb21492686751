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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One thing wrong with an inventory file.
#[derive(Debug, Clone)]
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
            named: NamedSource::new(source.path.display().to_string(), Arc::clone(&source.text))
                .with_language("yaml"),
            source: Arc::clone(source),
        }
    }

    pub fn file(&self) -> &Path {
        &self.source.path
    }
}

/// `file:line:column: message (hint)`, the shape editors and CI annotations understand.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {kind}: {}",
            self.source.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
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
