//! Prints `docs/field-coverage.md`: for every normalized model field and
//! every provider, whether the provider supplies it (always / sometimes /
//! never, over its fixtures) and from which source field.
//!
//! The source is found by ablation, not written down: each object member of
//! each fixture is deleted in turn, the body converted again, and the model
//! fields whose value changed are attributed to that member. Run it through
//! `cargo xtask coverage [--check]`, which writes or checks the file.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use spaces::{Field, Provider, Space};

fn main() -> ExitCode {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    match coverage_markdown(&fixtures) {
        Ok(markdown) => {
            print!("{markdown}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What one provider's fixtures say about one model field.
#[derive(Default)]
struct Cell {
    /// Fixtures (that decode to a Space) in which the field is not null.
    present: usize,
    /// Source fields, as dotted paths with `[]` for any array index.
    sources: BTreeSet<String>,
}

fn coverage_markdown(fixtures: &Path) -> Result<String, String> {
    let mut table: BTreeMap<(Field, Provider), Cell> = BTreeMap::new();
    let mut totals: BTreeMap<Provider, usize> = BTreeMap::new();
    for &provider in Provider::ALL {
        for path in space_fixtures(&fixtures.join(provider.as_str()))? {
            let raw: Value = read_json(&path)?;
            let spaces = normalized(provider, &raw)
                .ok_or_else(|| format!("{}: does not decode, but is not named err-*/bad-*", path.display()))?;
            *totals.entry(provider).or_default() += spaces.len();
            for &(row, ref value) in spaces.iter().flatten() {
                let cell = table.entry((row, provider)).or_default();
                cell.present += usize::from(!value.is_null());
            }
            let fields: Vec<(Field, Value)> = spaces.into_iter().flatten().collect();
            for (source, changed) in ablate(provider, &raw, &fields) {
                for row in changed {
                    table.entry((row, provider)).or_default().sources.insert(source.clone());
                }
            }
        }
    }
    Ok(render(&table, &totals))
}

/// The fixtures that must decode to a Space (`err-*` and `bad-*` must not).
fn space_fixtures(directory: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(directory).map_err(|error| format!("{}: {error}", directory.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.starts_with("err-") && !name.starts_with("bad-")
        })
        .collect();
    paths.sort();
    Ok(paths)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    serde_json::from_slice(&text).map_err(|error| format!("{}: {error}", path.display()))
}

/// Each normalized Space of the body (one, or every Space of a multi-Space
/// body) as rows: its fields as `Space::fields` walks them (`creator` and
/// `settings` member by member, lists whole), each value as its JSON.
fn normalized(provider: Provider, raw: &Value) -> Option<Vec<Vec<(Field, Value)>>> {
    let body = serde_json::to_vec(raw).ok()?;
    let spaces = match spaces::decode_any(provider, &body).ok()? {
        spaces::Decoded::One(space) => vec![space],
        spaces::Decoded::Many(list) => list.spaces,
    };
    spaces.iter().map(space_rows).collect()
}

fn space_rows(space: &Space) -> Option<Vec<(Field, Value)>> {
    space.fields().map(|(field, value)| serde_json::to_value(value).ok().map(|value| (field, value))).collect()
}

/// `(source path, model rows it feeds)` for every object member of `raw`.
fn ablate(provider: Provider, raw: &Value, fields: &[(Field, Value)]) -> Vec<(String, Vec<Field>)> {
    let mut found: Vec<(String, Vec<Field>)> = Vec::new();
    let mut required = Vec::new();
    // Rows some deletable member gave its value to, verbatim.
    let mut copied: BTreeSet<Field> = BTreeSet::new();
    for (pointer, label) in members(raw, String::new(), String::new()) {
        let mut without = raw.clone();
        remove(&mut without, &pointer);
        // A member without which the body decodes to fewer Spaces (a
        // multi-Space item's id) is required, like one without which it
        // does not decode at all.
        let Some(after) = normalized(provider, &without)
            .map(|spaces| spaces.into_iter().flatten().collect::<Vec<_>>())
            .filter(|after| after.len() == fields.len())
        else {
            required.push((pointer, label));
            continue;
        };
        let changed: Vec<Field> = fields
            .iter()
            .zip(&after)
            .filter(|((_, before), (_, after))| {
                // A scalar counts when it changes; a list or object only
                // when it disappears (one user field does not feed `hosts`).
                if before.is_array() || before.is_object() { after.is_null() } else { after != before }
            })
            .map(|((row, _), _)| *row)
            .collect();
        if let Some(value) = raw.pointer(&pointer) {
            copied.extend(
                fields.iter().filter(|(row, field)| field == value && changed.contains(row)).map(|(row, _)| *row),
            );
        }
        if !changed.is_empty() {
            found.push((label, changed));
        }
    }
    // A member the body cannot decode without (a Space id, X's usernames)
    // cannot be ablated: it feeds the rows that hold its very value, unless
    // another member already gave them that value.
    let mut by_value = Vec::new();
    for (pointer, label) in required {
        if let Some(value @ (Value::String(_) | Value::Number(_))) = raw.pointer(&pointer) {
            let rows: Vec<Field> = fields
                .iter()
                .filter(|(row, field)| field == value && !copied.contains(row))
                .map(|(row, _)| *row)
                .collect();
            if !rows.is_empty() {
                by_value.push((label, rows));
            }
        }
    }
    found.extend(by_value);
    found
}

/// Every object member below `value`: (JSON pointer, label like `data.creator.userName` or `includes.users[].id`).
fn members(value: &Value, pointer: String, label: String) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                let child_label = if label.is_empty() { key.clone() } else { format!("{label}.{key}") };
                out.push((child_pointer.clone(), child_label.clone()));
                out.extend(members(child, child_pointer, child_label));
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                out.extend(members(child, format!("{pointer}/{index}"), format!("{label}[]")));
            }
        }
        _ => {}
    }
    out
}

fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.remove(&key);
    }
}

/// Keeps the most specific sources: `includes.users[].username` over `includes.users` and `includes`.
fn most_specific(sources: &BTreeSet<String>) -> Vec<&str> {
    sources
        .iter()
        .filter(|source| {
            !sources.iter().any(|other| {
                other != *source
                    && (other.starts_with(&format!("{source}.")) || other.starts_with(&format!("{source}[]")))
            })
        })
        .map(String::as_str)
        .collect()
}

/// The table: one row per model field, in the model's order (`Field::ALL`).
fn render(table: &BTreeMap<(Field, Provider), Cell>, totals: &BTreeMap<Provider, usize>) -> String {
    let mut out = String::from(
        "# Field coverage\n\n\
         Generated by `cargo xtask coverage` from `tests/fixtures/`: do not edit by hand;\n\
         `cargo xtask coverage --check` (run by `.ci/run`) fails when it is stale.\n\n\
         For each normalized field and provider: **always**, **sometimes** or **never**\n\
         non-null over the Spaces of that provider's fixtures (every Space of a\n\
         multi-Space body counts), and the source fields it came from. Sources are\n\
         found by deleting each member of each fixture in turn and seeing which\n\
         normalized fields change (`[]` is any array index, so `data[].title` is a\n\
         multi-Space body's; X's users and topics are resolved from `includes` by id).\n\n",
    );
    let providers: Vec<Provider> = Provider::ALL.to_vec();
    out.push_str("| field |");
    for provider in &providers {
        let spaces = totals.get(provider).copied().unwrap_or(0);
        out.push_str(&format!(" {} ({spaces} Spaces) |", provider.info().title));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(providers.len()));
    out.push('\n');
    let empty = Cell::default();
    for &row in Field::ALL {
        out.push_str(&format!("| `{row}` |"));
        for provider in &providers {
            let cell = table.get(&(row, *provider)).unwrap_or(&empty);
            let total = totals.get(provider).copied().unwrap_or(0);
            let how = match cell.present {
                0 => "never",
                n if n == total => "always",
                _ => "sometimes",
            };
            let sources: Vec<String> =
                most_specific(&cell.sources).iter().map(|source| format!("`{source}`")).collect();
            if cell.present == 0 || sources.is_empty() {
                out.push_str(&format!(" {how} |"));
            } else {
                out.push_str(&format!(" {how}: {} |", sources.join(", ")));
            }
        }
        out.push('\n');
    }
    out
}
