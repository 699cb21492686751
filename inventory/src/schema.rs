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
    let mut node = resolve(&SCHEMA);
    for step in path {
        let next = match step {
            Step::Key(key) => node.get("properties").and_then(|p| p.get(key)),
            Step::Index(_) => node.get("items"),
        };
        match next {
            Some(next) => node = resolve(next),
            None => return Vec::new(),
        }
    }
    node.get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// Follows `$ref` and the object branch of `anyOf`/`oneOf` (as schemars writes `Option<T>`).
fn resolve(mut node: &Value) -> &Value {
    loop {
        if let Some(name) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            match SCHEMA.get("$defs").and_then(|defs| defs.get(name)) {
                Some(def) => node = def,
                None => return node,
            }
        } else if let Some(branch) = ["anyOf", "oneOf"]
            .iter()
            .filter_map(|k| node.get(*k).and_then(Value::as_array))
            .flatten()
            .find(|b| b.get("$ref").is_some() || b.get("properties").is_some())
        {
            node = branch;
        } else {
            return node;
        }
    }
}
