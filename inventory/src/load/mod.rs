//! Reads an inventory file, or a folder of them, into one [`Inventory`], collecting every
//! problem at once (syntax, unknown fields, bad values, broken references) with its place.
//!
//! Each file is parsed once into a position-aware tree; each agency, host and site is then
//! decoded on its own, so one bad entry does not hide the problems of the others.

mod secrets;
mod tree;
mod validate;

pub use validate::normalized_fqdn;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostic::{InventoryError, Problem, Severity, SourceFile};
use crate::model::{Agency, FORMAT_VERSION, Host, Inventory, Scan, Site};
pub use secrets::{SecretError, open_to_others, read_secret};
use tree::{Node, Value, path_text};
pub use tree::{Pos, Step};

/// What the loader needs to know beyond the files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Device profile names a site may use.
    pub profiles: Vec<String>,
    /// Whether SNMP secrets must be readable: true for what polls sites, false for a CI
    /// job that only checks hosts and has no SNMP credentials.
    pub secrets: bool,
}

/// A valid inventory, with the warnings found on the way and the files it came from.
#[derive(Debug)]
pub struct Loaded {
    pub inventory: Inventory,
    pub warnings: Vec<Problem>,
    pub files: Vec<PathBuf>,
    /// Where each host is written, by fqdn: what CI annotations and SARIF point at.
    pub host_places: std::collections::BTreeMap<String, Place>,
}

/// A place in an inventory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

/// Loads `path`, a YAML file or a folder whose `*.yaml`/`*.yml` files (searched recursively,
/// in name order) merge into one inventory.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let files = inventory_files(path)?;
    let mut sources = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|source| LoadError::Read {
            path: file.clone(),
            source,
        })?;
        sources.push(Arc::new(SourceFile::new(file.clone(), text)));
    }
    let mut loaded = load_sources(sources, options).map_err(LoadError::Invalid)?;
    name_secret_files(&mut loaded.inventory, path);
    Ok(loaded)
}

/// Names each secret file relative to the inventory's root (its folder, or the folder of
/// its one file), so the same inventory imported from another checkout stores the same.
fn name_secret_files(inventory: &mut Inventory, path: &Path) {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let root = lexical_absolute(folder);
    for site in &mut inventory.sites {
        for file in site.snmp.secret_files_mut() {
            if let Some(named) = relative_to(file.named(), &root) {
                let path = file.path().to_path_buf();
                file.place(named, path);
            }
        }
    }
}

/// `path` made absolute against the working directory with `.` and `..` taken out by
/// hand, so the same file named two ways (or not there at all) gets one name.
pub(crate) fn lexical_absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `root` (both absolute, from [`lexical_absolute`]), with `..` for a
/// file outside the root; None when they share no root (another drive).
fn relative_to(path: &Path, root: &Path) -> Option<PathBuf> {
    let (mut path_parts, mut root_parts) = (path.components(), root.components());
    let (mut ahead_path, mut ahead_root) = (path_parts.clone(), root_parts.clone());
    while let (Some(a), Some(b)) = (path_parts.next(), root_parts.next()) {
        if a != b {
            break;
        }
        (ahead_path, ahead_root) = (path_parts.clone(), root_parts.clone());
    }
    if ahead_path.clone().count() == path.components().count() {
        return None;
    }
    let mut relative: PathBuf = ahead_root
        .map(|_| std::path::Component::ParentDir)
        .collect();
    relative.extend(ahead_path);
    Some(relative)
}

/// Loads the inventory at `path` as it was at git revision `rev` (a commit, tag or branch
/// of the repository that holds it), for selecting what changed since.
pub fn load_at_revision(path: &Path, rev: &str, options: &LoadOptions) -> Result<Loaded, String> {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let git = |args: &[&str]| -> Result<String, String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(folder)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        String::from_utf8(out.stdout)
            .map_err(|_| format!("git {} printed non-UTF-8", args.join(" ")))
    };
    let prefix = git(&["rev-parse", "--show-prefix"])?.trim().to_owned();
    let wanted = if path.is_dir() {
        prefix.clone()
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{prefix}{name}")
    };
    let root = git(&["rev-parse", "--show-toplevel"])?.trim().to_owned();
    let listed = git(&[
        "ls-tree",
        "-r",
        "--name-only",
        "--full-tree",
        rev,
        "--",
        &wanted,
    ])?;
    let mut sources = Vec::new();
    for file in listed
        .lines()
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
    {
        let text = git(&["show", &format!("{rev}:{file}")])?;
        sources.push(Arc::new(SourceFile::new(Path::new(&root).join(file), text)));
    }
    if sources.is_empty() {
        return Err(format!("no inventory file at {rev}"));
    }
    let mut loaded = load_sources(sources, options)
        .map_err(|e| format!("the inventory at {rev} is not valid: {e}"))?;
    name_secret_files(&mut loaded.inventory, path);
    Ok(loaded)
}

/// Loads inventory text that did not come from disk; `name` labels its problems.
pub fn load_str(name: &str, text: &str, options: &LoadOptions) -> Result<Loaded, InventoryError> {
    let source = Arc::new(SourceFile::new(PathBuf::from(name), text.to_owned()));
    load_sources(vec![source], options)
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("cannot read inventory {}: {}", path.display(), crate::store::said(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no inventory files (*.yaml, *.yml) in {}", .0.display())]
    #[diagnostic(help("point --inventory at a YAML file or a folder that holds some"))]
    Empty(PathBuf),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(InventoryError),
}

fn inventory_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(read_error)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let read_error = |source| LoadError::Read {
            path: folder.clone(),
            source,
        };
        for entry in std::fs::read_dir(&folder).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            let entry_path = entry.path();
            // Hidden folders (.git, .github) hold no inventory; links are not followed,
            // so a link back up cannot loop.
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let kind = entry.file_type().map_err(read_error)?;
            if kind.is_dir() && !hidden {
                folders.push(entry_path);
            } else if kind.is_file()
                && entry_path
                    .extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
            {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Empty(path.to_path_buf()));
    }
    Ok(files)
}

/// An entry decoded from one file, with the path that finds it again in that file's tree.
pub(crate) struct Item<T> {
    pub value: T,
    pub file: usize,
    pub path: Vec<Step>,
    /// Fields below `path` whose values were bad or missing: reported already, and left
    /// at their default or a stand-in that no check should judge.
    bad: Vec<Vec<Step>>,
}

impl<T> Item<T> {
    /// Whether `field` (a path of keys below the entry) and all it holds were written well.
    pub fn sound(&self, field: &[&str]) -> bool {
        sound(&self.bad, field)
    }
}

/// Whether `field` is clear of every path in `bad`, above it, at it or below it.
fn sound(bad: &[Vec<Step>], field: &[&str]) -> bool {
    !bad.iter().any(|bad| {
        bad.iter()
            .zip(field)
            .all(|(step, key)| matches!(step, Step::Key(k) if k == key))
    })
}

/// The files being loaded and the problems found in them so far.
pub(crate) struct Context {
    sources: Vec<Arc<SourceFile>>,
    trees: Vec<Option<Node>>,
    pub problems: Vec<Problem>,
    /// Secret files whose permissions were checked: once per file, however many sites or
    /// secrets name it (one stat, at most one warning).
    pub checked_secret_files: std::collections::HashSet<PathBuf>,
}

impl Context {
    /// Reports a problem about the key at `path` (or its nearest ancestor).
    pub fn at_key(&mut self, file: usize, path: &[Step], message: String, hint: Option<String>) {
        self.report(Severity::Error, file, path, false, message, hint);
    }

    /// Reports a problem about the value at `path` (or its nearest ancestor).
    pub fn at_value(&mut self, file: usize, path: &[Step], message: String, hint: Option<String>) {
        self.report(Severity::Error, file, path, true, message, hint);
    }

    pub fn warn(&mut self, file: usize, path: &[Step], message: String, hint: Option<String>) {
        self.report(Severity::Warning, file, path, true, message, hint);
    }

    fn report(
        &mut self,
        severity: Severity,
        file: usize,
        path: &[Step],
        on_value: bool,
        message: String,
        hint: Option<String>,
    ) {
        let pos = self.pos(file, path, on_value);
        let problem = Problem::new(severity, &self.sources[file], pos, message, hint);
        self.problems.push(problem);
    }

    pub fn pos(&self, file: usize, path: &[Step], on_value: bool) -> Pos {
        let source = &self.sources[file].text;
        let Some(root) = &self.trees[file] else {
            return Pos::at(source, 1, 1);
        };
        let location = match root.value_at(path) {
            Some(node) if on_value => node.at,
            _ => root.locate(path).0,
        };
        Node::pos(location, source)
    }

    /// `file:line:column` of a path, to point from one problem to a related place.
    pub fn place(&self, file: usize, path: &[Step]) -> String {
        let pos = self.pos(file, path, false);
        format!(
            "{}:{}:{}",
            self.sources[file].path.display(),
            pos.line,
            pos.column
        )
    }

    pub fn base_dir(&self, file: usize) -> &Path {
        self.sources[file]
            .path
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }

    /// Decodes one entry on its own. Each bad value is reported and set aside, and decoding
    /// goes on without it (a required field gets a stand-in), so every field's problem
    /// shows at once and the entry still counts for cross-references. `None` when the
    /// entry is not even a mapping.
    fn decode<T: DeserializeOwned>(
        &mut self,
        file: usize,
        node: &Node,
        base: &[Step],
    ) -> Option<Item<T>> {
        let mut json = node.to_json();
        // Paths below `base` as written: removing a list's bad item shifts `json`'s indexes.
        let mut bad: Vec<Vec<Step>> = Vec::new();
        let mut stood_in: Vec<Vec<Step>> = Vec::new();
        let mut unknown: Vec<Vec<Step>> = Vec::new();
        // Each round sets one value aside or stands one in, so the rounds are few.
        let value = loop {
            let mut ignored = Vec::new();
            let decoded = {
                let mut note = |path: serde_ignored::Path| ignored.push(ignored_steps(&path));
                let de = serde_ignored::Deserializer::new(&json, &mut note);
                serde_path_to_error::deserialize::<_, T>(de)
            };
            for path in ignored {
                let path = as_written(&path, &bad);
                if !unknown.contains(&path) {
                    unknown.push(path);
                }
            }
            let error = match decoded {
                Ok(value) => break Some(value),
                Err(error) => error,
            };
            let now = error_steps(error.path());
            let relative = as_written(&now, &bad);
            let message = error.into_inner().to_string();
            if let Some(field) = missing_field(&message) {
                let written = [relative.as_slice(), &[Step::Key(field.clone())]].concat();
                if !bad.contains(&written) {
                    self.value_problem(file, &[base, &relative].concat(), &message);
                    bad.push(written.clone());
                }
                let stand_in = (!stood_in.contains(&written))
                    .then(|| crate::schema::stand_in(&[base, &written].concat()))
                    .flatten();
                let Some(stand_in) = stand_in else {
                    break None;
                };
                insert(&mut json, &[now, vec![Step::Key(field)]].concat(), stand_in);
                stood_in.push(written);
                continue;
            }
            // A value that is still bad once set aside or stood in ends the entry.
            let again = bad.contains(&relative);
            if !again {
                self.value_problem(file, &[base, &relative].concat(), &message);
            }
            if again || !remove(&mut json, &now) {
                break None;
            }
            bad.push(relative);
        };
        for relative in unknown {
            let path = [base, &relative].concat();
            let Some(Step::Key(field)) = path.last() else {
                continue;
            };
            let known = crate::schema::fields_at(&path[..path.len() - 1]);
            let hint = did_you_mean(field, known.iter().map(String::as_str)).or_else(|| {
                (!known.is_empty()).then(|| format!("known fields here: {}", known.join(", ")))
            });
            self.at_key(
                file,
                &path,
                format!(
                    "unknown field `{field}` in {}",
                    path_text(&path[..path.len() - 1])
                ),
                hint,
            );
        }
        value.map(|value| Item {
            value,
            file,
            path: base.to_vec(),
            bad,
        })
    }

    /// Reports a value serde refused, with a hint from its field.
    fn value_problem(&mut self, file: usize, path: &[Step], message: &str) {
        let hint = value_hint(path, message);
        self.at_value(file, path, format!("{}: {message}", path_text(path)), hint);
    }
}

/// The field a "missing field `name`" error names.
fn missing_field(message: &str) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.strip_suffix('`')?;
    Some(name.to_owned())
}

/// A path in the value being decoded, as written in the file: each list item removed
/// before it (a path in `bad` ending in an index) moves its index up by one.
fn as_written(now: &[Step], bad: &[Vec<Step>]) -> Vec<Step> {
    let mut written = Vec::with_capacity(now.len());
    for step in now {
        let step = match step {
            Step::Index(index) => {
                let mut removed: Vec<usize> = bad
                    .iter()
                    .filter(|b| b.len() == written.len() + 1 && b.starts_with(&written))
                    .filter_map(|b| match b.last() {
                        Some(Step::Index(i)) => Some(*i),
                        _ => None,
                    })
                    .collect();
                removed.sort_unstable();
                let mut index = *index;
                for gone in removed {
                    if gone <= index {
                        index += 1;
                    }
                }
                Step::Index(index)
            }
            key => key.clone(),
        };
        written.push(step);
    }
    written
}

/// The value at `path`'s parent, to change in place.
fn parent_of<'a>(
    json: &'a mut serde_json::Value,
    path: &[Step],
) -> Option<&'a mut serde_json::Value> {
    let (_, parents) = path.split_last()?;
    parents.iter().try_fold(json, |value, step| match step {
        Step::Key(key) => value.get_mut(key.as_str()),
        Step::Index(index) => value.get_mut(*index),
    })
}

/// Removes the value at `path`; false when there is none (or `path` is the whole value).
fn remove(json: &mut serde_json::Value, path: &[Step]) -> bool {
    match (parent_of(json, path), path.last()) {
        (Some(serde_json::Value::Object(map)), Some(Step::Key(key))) => map.remove(key).is_some(),
        (Some(serde_json::Value::Array(items)), Some(Step::Index(index)))
            if *index < items.len() =>
        {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

fn insert(json: &mut serde_json::Value, path: &[Step], value: serde_json::Value) {
    if let (Some(serde_json::Value::Object(map)), Some(Step::Key(key))) =
        (parent_of(json, path), path.last())
    {
        map.insert(key.clone(), value);
    }
}

/// One file's share of the inventory.
#[derive(Default)]
struct Part {
    scan: Option<Item<Scan>>,
    agencies: Vec<Item<Agency>>,
    hosts: Vec<Item<Host>>,
    sites: Vec<Item<Site>>,
}

fn load_sources(
    sources: Vec<Arc<SourceFile>>,
    options: &LoadOptions,
) -> Result<Loaded, InventoryError> {
    let trees = vec![None; sources.len()];
    let mut cx = Context {
        sources,
        trees,
        problems: Vec::new(),
        checked_secret_files: Default::default(),
    };
    let mut whole = Part::default();
    for file in 0..cx.sources.len() {
        let part = read_file(&mut cx, file);
        if let Some(scan) = part.scan {
            match &whole.scan {
                Some(first) => {
                    let first_place = cx.place(first.file, &first.path);
                    cx.at_key(
                        file,
                        &scan.path,
                        "`scan` is set in more than one file".into(),
                        Some(format!(
                            "keep one `scan` section; the other is at {first_place}"
                        )),
                    );
                }
                None => whole.scan = Some(scan),
            }
        }
        whole.agencies.extend(part.agencies);
        whole.hosts.extend(part.hosts);
        whole.sites.extend(part.sites);
    }
    let host_places = whole
        .hosts
        .iter()
        .map(|item| {
            let pos = cx.pos(item.file, &item.path, true);
            let place = Place {
                file: cx.sources[item.file].path.clone(),
                line: pos.line,
                column: pos.column,
            };
            (validate::normalized_fqdn(&item.value.fqdn), place)
        })
        .collect();
    let inventory = validate::check(
        &mut cx,
        whole.scan,
        whole.agencies,
        whole.hosts,
        whole.sites,
        options,
    );
    let files = cx.sources.iter().map(|s| s.path.clone()).collect();
    if cx.problems.iter().any(|p| p.severity == Severity::Error) {
        cx.problems
            .sort_by_key(|p| (p.file().to_path_buf(), p.line, p.column));
        return Err(InventoryError {
            problems: cx.problems,
        });
    }
    Ok(Loaded {
        inventory,
        warnings: cx.problems,
        files,
        host_places,
    })
}

/// Which budget a YAML file went past, in words.
fn breached(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Aliases { aliases } => format!("{aliases} aliases (`*name`)"),
        B::Anchors { anchors } => format!("{anchors} anchors (`&name`)"),
        B::Depth { depth } => format!("nesting {depth} levels deep"),
        B::Nodes { nodes } => format!("{nodes} mappings, lists and values"),
        B::Events { events } => format!("{events} parser events"),
        B::Documents { documents } => format!("{documents} documents in one file"),
        other => format!("{other:?}"),
    }
}

fn read_file(cx: &mut Context, file: usize) -> Part {
    let mut part = Part::default();
    let root = match Node::parse(&cx.sources[file].text) {
        Ok(root) => root,
        Err(error) => {
            let source = &cx.sources[file].text;
            let pos = error
                .location()
                .map_or_else(|| Pos::at(source, 1, 1), |l| Node::pos(l, source));
            // Budget breaches reached through an alias come wrapped in its locations.
            let mut cause = &error;
            while let serde_saphyr::Error::AliasError { error, .. }
            | serde_saphyr::Error::WithSnippet { error, .. } = cause
            {
                cause = error;
            }
            let (message, hint) = match cause {
                serde_saphyr::Error::Budget { breach, .. } => (
                    format!("the YAML goes past a parser budget: {}", breached(breach)),
                    "anchors, aliases and nesting are limited to guard against YAML bombs: \
                     write the entries out, or split the file in a folder of files",
                ),
                other => (
                    format!(
                        "not valid YAML: {}",
                        other.render_with_formatter(&serde_saphyr::UserMessageFormatter)
                    ),
                    "check the indentation and quoting around this place",
                ),
            };
            let problem = Problem::new(
                Severity::Error,
                &cx.sources[file],
                pos,
                message,
                Some(hint.into()),
            );
            cx.problems.push(problem);
            return part;
        }
    };
    let Value::Map(entries) = &root.value else {
        // An empty file would otherwise pass as an inventory of nothing.
        if root.value == Value::Null {
            cx.at_value(
                file,
                &[],
                "missing `version`: the file is empty".into(),
                Some("start the file with `version: 1`".into()),
            );
        } else {
            cx.trees[file] = Some(root);
            cx.at_value(
                file,
                &[],
                "an inventory file must be a mapping".into(),
                Some(
                    "start with `version: 1`, then `agencies:`, `hosts:`, `sites:` or `scan:`"
                        .into(),
                ),
            );
        }
        return part;
    };
    let entries = entries.clone();
    cx.trees[file] = Some(root);
    let mut saw_version = false;
    for (key, node) in &entries {
        let path = vec![Step::Key(key.value.clone())];
        match key.value.as_str() {
            "version" => {
                saw_version = true;
                if node.value != Value::UInt(FORMAT_VERSION.into()) {
                    cx.at_value(
                        file,
                        &path,
                        "this build reads inventory format version 1 only".into(),
                        Some("write `version: 1`".into()),
                    );
                }
            }
            "scan" => {
                part.scan = cx.decode(file, node, &path);
            }
            "agencies" => part.agencies = decode_list(cx, file, node, &path),
            "hosts" => part.hosts = decode_list(cx, file, node, &path),
            "sites" => part.sites = decode_list(cx, file, node, &path),
            other => {
                let known = crate::schema::fields_at(&[]);
                let hint = did_you_mean(other, known.iter().map(String::as_str));
                cx.at_key(
                    file,
                    &path,
                    format!("unknown top-level field `{other}`"),
                    hint,
                );
            }
        }
    }
    if !saw_version {
        cx.at_value(
            file,
            &[],
            "missing `version`".into(),
            Some("start the file with `version: 1`".into()),
        );
    }
    part
}

fn decode_list<T: DeserializeOwned>(
    cx: &mut Context,
    file: usize,
    node: &Node,
    path: &[Step],
) -> Vec<Item<T>> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                cx.decode(file, item, &[path, &[Step::Index(index)]].concat())
            })
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            cx.at_value(
                file,
                path,
                format!("`{}` must be a list", path_text(path)),
                Some("write each entry on its own line starting with `- `".into()),
            );
            Vec::new()
        }
    }
}

fn ignored_steps(path: &serde_ignored::Path) -> Vec<Step> {
    let mut steps = match path {
        serde_ignored::Path::Root => return Vec::new(),
        serde_ignored::Path::Seq { parent, .. }
        | serde_ignored::Path::Map { parent, .. }
        | serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_steps(parent),
    };
    match path {
        serde_ignored::Path::Seq { index, .. } => steps.push(Step::Index(*index)),
        serde_ignored::Path::Map { key, .. } => steps.push(Step::Key(key.clone())),
        _ => {}
    }
    steps
}

fn error_steps(path: &serde_path_to_error::Path) -> Vec<Step> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
            _ => None,
        })
        .collect()
}

/// The closest known name to a misspelt one, as a hint.
pub fn did_you_mean<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    known
        .map(|candidate| (strsim::jaro_winkler(given, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

/// A hint for a value serde rejected, from the field it belongs to.
fn value_hint(path: &[Step], message: &str) -> Option<String> {
    if message.starts_with("missing field") {
        return Some("add the field; `sixfive inventory schema` lists them all".into());
    }
    let Some(Step::Key(field)) = path.iter().rev().find(|s| matches!(s, Step::Key(_))) else {
        return None;
    };
    let hint = match field.as_str() {
        "target" => "write dates as YYYY-MM-DD, for example 2026-12-31",
        "scope" => "write prefixes like fd00::/8 or 198.18.0.0/15",
        "address" => "write an IPv6 or IPv4 address, or a DNS name",
        "require" => "one of L0, L1, L2, L3, L4, L5",
        "resolvers" => "write [fd00::53]:53 or 198.18.0.53:53",
        "version" => "SNMP version is 2c or 3",
        "auth" => "one of sha, sha224, sha256, sha384, sha512",
        "priv" => "one of aes128, aes192, aes256",
        _ if message.contains("expected a string") => "quote the value: \"...\"",
        _ => return None,
    };
    Some(hint.into())
}
