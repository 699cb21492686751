//! The JSON Schema of the inventory file, generated from the same types the loader
//! decodes, so editors and the loader agree on what is valid.

use std::sync::LazyLock;

use serde_json::Value;

use crate::load::Step;
use crate::model::Inventory;

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let mut schema = serde_json::to_value(schemars::schema_for!(Inventory))
        .expect("a schema serialises to JSON");
    schema["$id"] = "https://sixfive.invalid/schema/inventory-v1.json".into();
    schema["title"] = "sixfive inventory".into();
    schema
});

/// The schema as JSON (draft 2020-12).
pub fn json_schema() -> &'static Value {
    &SCHEMA
}

/// The field names allowed at `path`, for did-you-mean hints.
pub(crate) fn fields_at(path: &[Step]) -> Vec<String> {
    node_at(path)
        .map(resolve)
        .and_then(|node| node.get("properties"))
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// The plainest value the schema allows at `path` (the first of an enum, else an empty list,
/// object or string, or zero), for the loader to stand in for a bad or missing required
/// field, so the rest of its entry is still decoded and checked.
pub(crate) fn stand_in(path: &[Step]) -> Option<Value> {
    plainest(node_at(path)?)
}

fn plainest(node: &Value) -> Option<Value> {
    let node = follow(node);
    if let Some(first) = node
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    if let Some(value) = node.get("const") {
        return Some(value.clone());
    }
    let branches = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten();
    let types = match node.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    // A list or an object takes emptiness where a string may need a pattern.
    let plain = [
        ("array", Value::Array(Vec::new())),
        ("object", Value::Object(serde_json::Map::new())),
        ("boolean", Value::Bool(false)),
        ("integer", Value::from(0)),
        ("number", Value::from(0)),
        ("string", Value::from("")),
    ];
    plain
        .into_iter()
        .find(|(name, _)| types.contains(name))
        .map(|(_, value)| value)
        .or_else(|| {
            let mut stand_ins: Vec<Value> = branches.filter_map(plainest).collect();
            stand_ins.sort_by_key(|v| !(v.is_array() || v.is_object()));
            stand_ins.into_iter().next()
        })
}

/// The schema of the value at `path`, unresolved.
fn node_at(path: &[Step]) -> Option<&'static Value> {
    let mut node: &Value = &SCHEMA;
    for step in path {
        let parent = resolve(node);
        node = match step {
            Step::Key(key) => parent.get("properties").and_then(|p| p.get(key))?,
            Step::Index(_) => parent.get("items")?,
        };
    }
    Some(node)
}

/// Follows `$ref`s only.
fn follow(mut node: &Value) -> &Value {
    while let Some(def) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| SCHEMA.get("$defs")?.get(name))
    {
        node = def;
    }
    node
}

/// Follows `$ref` and the object branch of `anyOf`/`oneOf` (as schemars writes `Option<T>`).
fn resolve(node: &Value) -> &Value {
    let mut node = follow(node);
    while let Some(branch) = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .find(|b| b.get("$ref").is_some() || b.get("properties").is_some())
    {
        node = follow(branch);
    }
    node
}
