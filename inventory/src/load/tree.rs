//! A YAML document as a tree of nodes that remember where they stand in the file, so a
//! problem found after decoding can still name its line and column.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// A place in a source file: 1-based line and column, and the byte range for snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
    pub offset: usize,
    pub len: usize,
}

impl Pos {
    fn from_location(location: Location, source: &str) -> Self {
        let span = location.span();
        let offset = span
            .byte_offset()
            .map(|o| o as usize)
            .unwrap_or_else(|| byte_offset(source, location.line(), location.column()));
        Self {
            line: location.line(),
            column: location.column(),
            offset,
            len: span.byte_len().map_or(0, |l| l as usize),
        }
    }

    /// The position of a byte offset, for errors that carry only a line and column.
    pub fn at(source: &str, line: u64, column: u64) -> Self {
        Self {
            line,
            column,
            offset: byte_offset(source, line, column),
            len: 0,
        }
    }
}

fn byte_offset(source: &str, line: u64, column: u64) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = &source[line_start.min(source.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(rest.len(), |(i, _)| i)
}

/// One step into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Key(key) => f.write_str(key),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Renders a path the way users write it: `hosts[3].agency`.
pub fn path_text(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        if matches!(step, Step::Key(_)) && !text.is_empty() {
            text.push('.');
        }
        text.push_str(&step.to_string());
    }
    text
}

/// Parser budgets for an input of `bytes`: what every byte can hold grows with the input,
/// so a city of 200,000 hosts in one file loads, while what anchors and aliases can expand
/// to keeps serde-saphyr's defaults, the guard against YAML bombs.
pub fn budget_for(bytes: usize) -> serde_saphyr::budget::Budget {
    let mut budget = serde_saphyr::budget::Budget::default();
    // A node or an event takes at least a byte of input (anchors and aliases aside).
    budget.max_nodes = budget.max_nodes.max(bytes);
    budget.max_events = budget.max_events.max(2 * bytes);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(bytes);
    budget
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub at: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Spanned<String>, Node)>),
}

impl Node {
    pub fn parse(source: &str) -> Result<Node, serde_saphyr::Error> {
        let options = serde_saphyr::options! {
            with_snippet: false,
            budget: Some(budget_for(source.len())),
        };
        serde_saphyr::from_str_with_options(source, options)
    }

    /// The node at `path`, or the deepest ancestor that exists, and whether the whole path
    /// was found. A key's own position is returned for its last step, so an unknown field
    /// points at its name.
    pub fn locate(&self, path: &[Step]) -> (Location, bool) {
        let mut node = self;
        let mut at = self.at;
        for step in path {
            let next = match (&node.value, step) {
                (Value::Map(entries), Step::Key(key)) => entries
                    .iter()
                    .find(|(k, _)| &k.value == key)
                    .map(|(k, v)| (k.referenced, v)),
                (Value::Seq(items), Step::Index(index)) => items.get(*index).map(|v| (v.at, v)),
                _ => None,
            };
            match next {
                Some((step_at, child)) => {
                    at = step_at;
                    node = child;
                }
                None => return (at, false),
            }
        }
        (at, true)
    }

    /// The value's own position (not its key's), for errors about the value.
    pub fn value_at(&self, path: &[Step]) -> Option<&Node> {
        path.iter()
            .try_fold(self, |node, step| match (&node.value, step) {
                (Value::Map(entries), Step::Key(key)) => entries
                    .iter()
                    .find(|(k, _)| &k.value == key)
                    .map(|(_, v)| v),
                (Value::Seq(items), Step::Index(index)) => items.get(*index),
                _ => None,
            })
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::UInt(u) => Json::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn pos(location: Location, source: &str) -> Pos {
        Pos::from_location(location, source)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            at: spanned.referenced,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_remember_lines_and_columns() {
        let source = "hosts:\n  - fqdn: a.test\n    agency: dict\n";
        let root = Node::parse(source).unwrap();
        let path = [
            Step::Key("hosts".into()),
            Step::Index(0),
            Step::Key("agency".into()),
        ];
        let (at, found) = root.locate(&path);
        assert!(found);
        assert_eq!((at.line(), at.column()), (3, 5));
        let value = root.value_at(&path).unwrap();
        let pos = Node::pos(value.at, source);
        assert_eq!(&source[pos.offset..pos.offset + 4], "dict");
    }

    #[test]
    fn a_missing_path_falls_back_to_its_nearest_ancestor() {
        let root = Node::parse("scan:\n  rate: 5/s\n").unwrap();
        let (at, found) = root.locate(&[Step::Key("scan".into()), Step::Key("scope".into())]);
        assert!(!found);
        assert_eq!(at.line(), 1);
    }

    #[test]
    fn paths_render_as_users_write_them() {
        let path = [
            Step::Key("hosts".into()),
            Step::Index(3),
            Step::Key("agency".into()),
        ];
        assert_eq!(path_text(&path), "hosts[3].agency");
    }
}
