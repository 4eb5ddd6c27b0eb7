//! One operation's response schema, compiled into a checker for bodies.
//!
//! A hand-written validator for the part of OpenAPI 3.0's schema language the
//! specs use, read with OpenAPI's meaning (not JSON Schema's):
//!
//! - `type` (`integer` accepts `1.0`; `number` accepts integers); no `type`
//!   means anything;
//! - `nullable: true` lets `null` through (and `null` is refused otherwise,
//!   except where `type` is absent); on a `$ref`'s sibling it is ignored, as
//!   OpenAPI 3.0 ignores every sibling of `$ref`: write
//!   `{nullable: true, allOf: [{$ref: ...}]}` instead;
//! - `enum`, `required`, `format` (`date-time` and `date` as RFC 3339;
//!   `int32`/`int64` as ranges on integers; other formats are not checked),
//!   `pattern` (ECMA-262, by `regress`, found anywhere in the string, as JSON
//!   Schema has it), `minimum`/`maximum` (with 3.0's boolean
//!   `exclusiveMinimum`/`exclusiveMaximum`), `minLength`/`maxLength`,
//!   `minItems`/`maxItems`;
//! - `$ref` (local), `allOf` (each member applies), and `oneOf`/`anyOf`
//!   alike: a value fits when it fits one branch, and is judged by its
//!   best-fitting branch (one of the value's type, then the fewest findings,
//!   undeclared fields included, then the first); a value no branch has the
//!   type of gets one `type` finding naming every branch's type;
//! - undeclared fields: an object member no applying schema lists. Objects
//!   declared free-form (no `properties` anywhere, e.g. `type: object` alone or
//!   no `type`; or `additionalProperties: true` or a schema, which then checks
//!   the unlisted members) are not reported. `additionalProperties: false`
//!   changes nothing: unlisted members are reported either way.
//! - `x-audit` (a spec extension progenitor ignores): `pattern`, `format` and
//!   `required` the audit checks as if the schema said them, for constraints
//!   the converter enforces but the generated types must not (a `pattern`
//!   would make progenitor generate a validating newtype, `format: date-time`
//!   a `chrono` type, `required` a non-optional field, each refusing a whole
//!   body the converter reads or reports better). For example X's lenient
//!   `Timestamp` string: `x-audit: {pattern: '^\d{4}-\d{1,2}-...'}`.
//!
//! Why not a JSON Schema library: the `jsonschema` crate (0.61, default
//! features off) was tried first. It added 45 crates and doubled xtask's
//! clean-build CPU time (70 s to 133 s on this machine), turned on
//! `serde_json/float_roundtrip` for every crate built together with xtask
//! (feature unification), and needs an OpenAPI-to-JSON-Schema conversion
//! anyway (`nullable`, `oneOf` read as "fits one branch", `$ref` siblings).
//! It also explains a failed `oneOf` at the union (every branch's errors), so
//! choosing the best branch for the report and for the undeclared-field walk
//! (which no library does) meant validating each branch again here. The specs
//! use no string `format` and no `pattern` today; what they use is a small
//! subset, checked here in one walk with no new dependency (`regress` is
//! already built for progenitor).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

use crate::spec::{escape_pointer, resolve};

/// One step of a path into a body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A step of the path being checked, borrowed from the body (made owned only
/// when an issue is found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

fn owned(path: &[Step<'_>]) -> Vec<Segment> {
    path.iter()
        .map(|step| match step {
            Step::Key(key) => Segment::Key((*key).to_owned()),
            Step::Index(index) => Segment::Index(*index),
        })
        .collect()
}

fn same_path(segments: &[Segment], steps: &[Step<'_>]) -> bool {
    segments.len() == steps.len()
        && segments.iter().zip(steps).all(|pair| match pair {
            (Segment::Key(a), Step::Key(b)) => a == b,
            (Segment::Index(a), Step::Index(b)) => a == b,
            _ => false,
        })
}

/// What kind of drift a finding is. The names (`as_str`) are part of the
/// `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A field the spec does not declare.
    Undeclared,
    /// A value of another type than the declared one.
    Type,
    /// A value outside a closed `enum`.
    Enum,
    /// A `required` field that is absent.
    Required,
    /// A string that breaks its `format`, or an integer outside `int32`/`int64`.
    Format,
    /// A string that does not match its `pattern`.
    Pattern,
    /// Any other constraint (range, length, item count).
    Constraint,
    /// A captured 2xx body that is not JSON at all.
    NotJson,
}

impl Kind {
    /// The stable name used in the table and in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Undeclared => "undeclared",
            Kind::Type => "type",
            Kind::Enum => "enum",
            Kind::Required => "required",
            Kind::Format => "format",
            Kind::Pattern => "pattern",
            Kind::Constraint => "constraint",
            Kind::NotJson => "not-json",
        }
    }
}

/// One piece of drift in one body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issue {
    /// Where in the body; for `required`, the absent member's path.
    pub path: Vec<Segment>,
    pub kind: Kind,
    /// What was expected (`integer declared, string seen`, `date-time declared`, ...).
    pub detail: String,
}

type NodeId = usize;

/// JSON types as bits.
const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;
const TYPE_NAMES: [(u8, &str); 7] = [
    (NULL, "null"),
    (BOOLEAN, "boolean"),
    (INTEGER, "integer"),
    (NUMBER, "number"),
    (STRING, "string"),
    (ARRAY, "array"),
    (OBJECT, "object"),
];

/// What an object schema says about members it does not list.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Additional {
    /// Nothing (or `false`): unlisted members are undeclared.
    #[default]
    Unset,
    /// `true` or `{}`: anything goes.
    Open,
    /// A schema every unlisted member must fit.
    Schema(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DateTime,
    Date,
    Int32,
    Int64,
}

/// A numeric bound: the limit, and whether it is exclusive.
type Bound = Option<(f64, bool)>;

/// One schema, compiled.
#[derive(Debug, Default)]
struct Node {
    /// `$ref`: everything else is ignored.
    reference: Option<NodeId>,
    /// Allowed JSON types (`None`: any).
    types: Option<u8>,
    nullable: bool,
    enumeration: Option<Vec<Value>>,
    required: Vec<String>,
    /// `format`, and `x-audit.format`.
    formats: Vec<Format>,
    /// `pattern`, and `x-audit.pattern`.
    patterns: Vec<(String, regress::Regex)>,
    minimum: Bound,
    maximum: Bound,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    properties: Option<HashMap<String, NodeId>>,
    additional: Additional,
    items: Option<NodeId>,
    all_of: Vec<NodeId>,
    /// `oneOf` and `anyOf` branches alike.
    any_of: Vec<NodeId>,
}

/// A compiled checker for one response schema.
#[derive(Debug)]
pub struct Checker {
    nodes: Vec<Node>,
    root: NodeId,
}

impl Checker {
    /// Compiles the schema at `pointer` in the OpenAPI document `doc`.
    pub fn new(doc: &Value, schema: &Value, pointer: &str) -> Result<Self> {
        let mut builder = Builder { doc, nodes: Vec::new(), by_pointer: HashMap::new() };
        let root = builder.node(schema, pointer)?;
        Ok(Self { nodes: builder.nodes, root })
    }

    /// Every piece of drift in `body`, appended to `issues`.
    pub fn check(&self, body: &Value, issues: &mut Vec<Issue>) {
        let mut path = Vec::new();
        self.check_node(self.root, body, &mut path, issues);
    }

    fn check_node<'v>(&self, node: NodeId, value: &'v Value, path: &mut Vec<Step<'v>>, issues: &mut Vec<Issue>) {
        let node = self.follow(node);
        let schema = &self.nodes[node];
        if schema.all_of.is_empty() && schema.any_of.is_empty() {
            // The common case: one schema applies.
            if self.local(schema, value, path, issues) {
                self.descend(&[node], value, path, issues);
            }
            return;
        }
        if value.is_null() && schema.nullable {
            return;
        }
        let mut views = Vec::with_capacity(4);
        if let Err(issue) = self.views(node, value, path, &mut views) {
            issues.push(issue);
            return;
        }
        let mut fits = true;
        for &view in &views {
            fits &= self.local(&self.nodes[view], value, path, issues);
        }
        if fits {
            self.descend(&views, value, path, issues);
        }
    }

    /// Follows `$ref`s (a cycle of bare references stops where it started).
    fn follow(&self, mut node: NodeId) -> NodeId {
        let start = node;
        while let Some(target) = self.nodes[node].reference {
            node = target;
            if node == start {
                break;
            }
        }
        node
    }

    /// Every schema that applies to `value` at `node`: through `$ref`, every
    /// `allOf` member, and the best-fitting `oneOf`/`anyOf` branch. `Err` when
    /// no branch of a union even has the value's type.
    fn views<'v>(
        &self,
        node: NodeId,
        value: &'v Value,
        path: &mut Vec<Step<'v>>,
        views: &mut Vec<NodeId>,
    ) -> Result<(), Issue> {
        let node = self.follow(node);
        if views.contains(&node) || views.len() > 64 {
            return Ok(()); // A reference cycle without progress.
        }
        views.push(node);
        let schema = &self.nodes[node];
        for &member in &schema.all_of {
            self.views(member, value, path, views)?;
        }
        if !schema.any_of.is_empty() {
            let best = self.best_branch(&schema.any_of, value, path)?;
            self.views(best, value, path, views)?;
        }
        Ok(())
    }

    /// The best-fitting branch: one that has the value's type, then the
    /// fewest findings, then the first. When no branch has the value's type,
    /// one `type` finding naming every branch's type.
    fn best_branch<'v>(
        &self,
        branches: &[NodeId],
        value: &'v Value,
        path: &mut Vec<Step<'v>>,
    ) -> Result<NodeId, Issue> {
        let mut best: Option<((bool, usize), NodeId)> = None;
        let mut declared = 0u8;
        let mut nullable = false;
        let mut all_mismatch = true;
        let mut scratch = Vec::new();
        for &branch in branches {
            scratch.clear();
            self.check_node(branch, value, path, &mut scratch);
            if scratch.is_empty() {
                return Ok(branch);
            }
            let mismatch = scratch.iter().any(|issue| issue.kind == Kind::Type && same_path(&issue.path, path));
            all_mismatch &= mismatch;
            let target = &self.nodes[self.follow(branch)];
            declared |= target.types.unwrap_or(0);
            nullable |= target.nullable;
            let score = (mismatch, scratch.len());
            if best.is_none_or(|(fewest, _)| score < fewest) {
                best = Some((score, branch));
            }
        }
        match best {
            Some(_) if all_mismatch && declared != 0 => {
                Err(Issue { path: owned(path), kind: Kind::Type, detail: type_detail(declared, nullable, value) })
            }
            Some((_, branch)) => Ok(branch),
            None => Ok(branches[0]),
        }
    }

    /// The checks that do not descend. Returns whether the value has the
    /// declared type (and is not an accepted `null`), so descending makes sense.
    fn local(&self, schema: &Node, value: &Value, path: &[Step<'_>], issues: &mut Vec<Issue>) -> bool {
        let push = |issues: &mut Vec<Issue>, kind, detail: String| {
            issues.push(Issue { path: owned(path), kind, detail });
        };
        if value.is_null() && (schema.nullable || schema.types.is_none()) {
            if let Some(options) = &schema.enumeration
                && !schema.nullable
                && !options.contains(value)
            {
                push(issues, Kind::Enum, enum_detail(options));
            }
            return false;
        }
        let seen = type_of(value);
        if let Some(types) = schema.types {
            let fits = types & seen != 0
                || (seen == INTEGER && types & NUMBER != 0)
                || (seen == NUMBER && types & INTEGER != 0 && is_integral(value));
            if !fits {
                push(issues, Kind::Type, type_detail(types, schema.nullable, value));
                return false;
            }
        }
        if let Some(options) = &schema.enumeration
            && !options.contains(value)
        {
            push(issues, Kind::Enum, enum_detail(options));
        }
        match value {
            Value::String(text) => {
                for format in &schema.formats {
                    match format {
                        Format::DateTime if !is_date_time(text) => {
                            push(issues, Kind::Format, "date-time declared".to_owned());
                        }
                        Format::Date if !is_full_date(text.as_bytes()) => {
                            push(issues, Kind::Format, "date declared".to_owned());
                        }
                        _ => {}
                    }
                }
                for (source, regex) in &schema.patterns {
                    if regex.find(text).is_none() {
                        push(issues, Kind::Pattern, format!("pattern `{source}` declared"));
                    }
                }
                if schema.min_length.is_some() || schema.max_length.is_some() {
                    // JSON Schema counts code points.
                    let length = text.chars().count() as u64;
                    if let Some(min) = schema.min_length.filter(|&min| length < min) {
                        push(issues, Kind::Constraint, format!("minLength {min}"));
                    }
                    if let Some(max) = schema.max_length.filter(|&max| length > max) {
                        push(issues, Kind::Constraint, format!("maxLength {max}"));
                    }
                }
            }
            Value::Number(number) => {
                // 2^63 is exact in f64; i32's bounds are too.
                const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;
                let format =
                    schema.formats.iter().copied().find(|format| matches!(format, Format::Int32 | Format::Int64));
                let in_range = match (format, number.as_i64()) {
                    (Some(Format::Int32), Some(n)) => i32::try_from(n).is_ok(),
                    (Some(Format::Int64), Some(_)) => true,
                    (Some(Format::Int32), None) => {
                        number.as_f64().is_some_and(|x| x >= f64::from(i32::MIN) && x <= f64::from(i32::MAX))
                    }
                    (Some(Format::Int64), None) => {
                        !number.is_u64() && number.as_f64().is_some_and(|x| (-TWO_TO_63..TWO_TO_63).contains(&x))
                    }
                    _ => true,
                };
                if !in_range {
                    let name = if format == Some(Format::Int32) { "int32" } else { "int64" };
                    push(issues, Kind::Format, format!("{name} declared, out of range"));
                }
                if let Some(x) = number.as_f64() {
                    if let Some((limit, exclusive)) = schema.minimum
                        && (x < limit || (exclusive && x == limit))
                    {
                        let word = if exclusive { "exclusive minimum" } else { "minimum" };
                        push(issues, Kind::Constraint, format!("{word} {}", show_number(limit)));
                    }
                    if let Some((limit, exclusive)) = schema.maximum
                        && (x > limit || (exclusive && x == limit))
                    {
                        let word = if exclusive { "exclusive maximum" } else { "maximum" };
                        push(issues, Kind::Constraint, format!("{word} {}", show_number(limit)));
                    }
                }
            }
            Value::Array(elements) => {
                let length = elements.len() as u64;
                if let Some(min) = schema.min_items.filter(|&min| length < min) {
                    push(issues, Kind::Constraint, format!("minItems {min}"));
                }
                if let Some(max) = schema.max_items.filter(|&max| length > max) {
                    push(issues, Kind::Constraint, format!("maxItems {max}"));
                }
            }
            Value::Object(members) => {
                for name in &schema.required {
                    if !members.contains_key(name) {
                        let mut at = owned(path);
                        at.push(Segment::Key(name.clone()));
                        issues.push(Issue { path: at, kind: Kind::Required, detail: "required, absent".to_owned() });
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Checks an object's members or an array's elements against every
    /// applying schema's `properties` / `items`.
    fn descend<'v>(&self, views: &[NodeId], value: &'v Value, path: &mut Vec<Step<'v>>, issues: &mut Vec<Issue>) {
        match value {
            Value::Object(members) => {
                let mut declares_any = false;
                let mut additional = Additional::Unset;
                for &view in views {
                    let schema = &self.nodes[view];
                    declares_any |= schema.properties.is_some();
                    if additional == Additional::Unset {
                        additional = schema.additional;
                    }
                }
                for (key, child) in members {
                    let mut declared =
                        views.iter().filter_map(|&view| self.nodes[view].properties.as_ref()?.get(key).copied());
                    path.push(Step::Key(key));
                    match (declared.next(), additional) {
                        (Some(first), _) => {
                            let more: Vec<NodeId> = declared.filter(|&other| other != first).collect();
                            if more.is_empty() {
                                self.check_node(first, child, path, issues);
                            } else {
                                // Several `allOf` members declare it: each applies; report each finding once.
                                // (Every one is under `child`, so none can already be in `issues`; a set,
                                // not a search of the list, keeps many findings linear.)
                                let mut found = Vec::new();
                                for node in std::iter::once(first).chain(more) {
                                    self.check_node(node, child, path, &mut found);
                                }
                                let mut seen = HashSet::with_capacity(found.len());
                                issues.extend(found.into_iter().filter(|issue| seen.insert(issue.clone())));
                            }
                        }
                        (None, Additional::Schema(schema)) => self.check_node(schema, child, path, issues),
                        (None, Additional::Open) => {}
                        (None, Additional::Unset) => {
                            if declares_any {
                                issues.push(Issue { path: owned(path), kind: Kind::Undeclared, detail: String::new() });
                            }
                        }
                    }
                    path.pop();
                }
            }
            Value::Array(elements) => {
                if let Some(items) = views.iter().find_map(|&view| self.nodes[view].items) {
                    for (index, element) in elements.iter().enumerate() {
                        path.push(Step::Index(index));
                        self.check_node(items, element, path, issues);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }
}

/// `integer or string declared, boolean seen`.
fn type_detail(declared: u8, nullable: bool, value: &Value) -> String {
    let names: Vec<&str> = TYPE_NAMES.iter().filter(|(bit, _)| declared & bit != 0).map(|(_, name)| *name).collect();
    let nullable = if nullable && declared & NULL == 0 { " or null" } else { "" };
    let seen = type_of(value);
    let seen = TYPE_NAMES.iter().find(|(bit, _)| *bit == seen).map_or("?", |(_, name)| name);
    format!("{}{nullable} declared, {seen} seen", names.join(" or "))
}

fn type_of(value: &Value) -> u8 {
    match value {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(number) if number.is_i64() || number.is_u64() => INTEGER,
        Value::Number(_) => NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

/// `1.0` is an integer, as JSON Schema has it.
fn is_integral(value: &Value) -> bool {
    value.as_f64().is_some_and(|x| x.is_finite() && x.fract() == 0.0)
}

fn show_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { x.to_string() }
}

fn enum_detail(options: &[Value]) -> String {
    let listed: Vec<String> = options.iter().map(Value::to_string).collect();
    clip(&format!("not one of {}", listed.join(", ")), 100)
}

/// Builds the node graph from the OpenAPI document.
struct Builder<'a> {
    doc: &'a Value,
    nodes: Vec<Node>,
    by_pointer: HashMap<String, NodeId>,
}

impl Builder<'_> {
    fn node(&mut self, schema: &Value, pointer: &str) -> Result<NodeId> {
        if let Some(&id) = self.by_pointer.get(pointer) {
            return Ok(id);
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.by_pointer.insert(pointer.to_owned(), id);
        let node = match schema {
            Value::Object(map) => self.compile(map, pointer)?,
            Value::Bool(true) => Node::default(),
            other => bail!("{pointer}: a schema must be an object, not `{other}`"),
        };
        self.nodes[id] = node;
        Ok(id)
    }

    fn compile(&mut self, map: &Map<String, Value>, pointer: &str) -> Result<Node> {
        let mut node = Node::default();
        let at = |key: &str| format!("{pointer}/{}", escape_pointer(key));
        if let Some(reference) = map.get("$ref") {
            let reference = reference.as_str().ok_or_else(|| anyhow!("{}: not a string", at("$ref")))?;
            let (target_pointer, target) = resolve(self.doc, reference)
                .ok_or_else(|| anyhow!("{}: `{reference}` is not a local reference that resolves", at("$ref")))?;
            node.reference = Some(self.node(target, &target_pointer)?);
            return Ok(node);
        }
        node.types = match map.get("type") {
            None => None,
            Some(Value::String(name)) => {
                Some(type_bit(name).ok_or_else(|| anyhow!("{}: unknown type `{name}`", at("type")))?)
            }
            Some(other) => bail!("{}: `type` must be one string in OpenAPI 3.0, not `{other}`", at("type")),
        };
        node.nullable = map.get("nullable") == Some(&Value::Bool(true));
        if let Some(options) = map.get("enum") {
            let options = options.as_array().ok_or_else(|| anyhow!("{}: not a list", at("enum")))?;
            node.enumeration = Some(options.clone());
        }
        for name in map.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().ok_or_else(|| anyhow!("{}: names must be strings", at("required")))?;
            node.required.push(name.to_owned());
        }
        let is_integer = node.types == Some(INTEGER);
        if let Some(format) = map.get("format").and_then(Value::as_str).and_then(|name| format(name, is_integer)) {
            node.formats.push(format);
        }
        if let Some(source) = map.get("pattern") {
            node.patterns.push(pattern(source, &at("pattern"))?);
        }
        // Constraints the converter enforces but the generated types must not
        // (a `pattern` or `format` would change them): stated for the audit only.
        if let Some(audit) = map.get("x-audit") {
            let audit = audit.as_object().ok_or_else(|| anyhow!("{}: not a map", at("x-audit")))?;
            for (key, value) in audit {
                let here = format!("{}/{}", at("x-audit"), escape_pointer(key));
                match key.as_str() {
                    "pattern" => node.patterns.push(pattern(value, &here)?),
                    "format" => {
                        let name = value.as_str().ok_or_else(|| anyhow!("{here}: not a string"))?;
                        let format = format(name, is_integer).ok_or_else(|| {
                            anyhow!("{here}: `{name}` is not a format the audit checks (date-time, date, int32, int64)")
                        })?;
                        node.formats.push(format);
                    }
                    "required" => {
                        for name in value.as_array().ok_or_else(|| anyhow!("{here}: not a list"))? {
                            let name = name.as_str().ok_or_else(|| anyhow!("{here}: names must be strings"))?;
                            node.required.push(name.to_owned());
                        }
                    }
                    other => bail!("{here}: unknown key `{other}` (the audit reads pattern, format, required)"),
                }
            }
        }
        node.minimum = bound(map, "minimum", "exclusiveMinimum");
        node.maximum = bound(map, "maximum", "exclusiveMaximum");
        node.min_length = map.get("minLength").and_then(Value::as_u64);
        node.max_length = map.get("maxLength").and_then(Value::as_u64);
        node.min_items = map.get("minItems").and_then(Value::as_u64);
        node.max_items = map.get("maxItems").and_then(Value::as_u64);
        if let Some(properties) = map.get("properties") {
            let properties = properties.as_object().ok_or_else(|| anyhow!("{}: not a map", at("properties")))?;
            let mut table = HashMap::with_capacity(properties.len());
            for (name, property) in properties {
                let child = self.node(property, &format!("{}/{}", at("properties"), escape_pointer(name)))?;
                table.insert(name.clone(), child);
            }
            node.properties = Some(table);
        }
        node.additional = match map.get("additionalProperties") {
            None | Some(Value::Bool(false)) => Additional::Unset,
            Some(Value::Bool(true)) => Additional::Open,
            Some(Value::Object(schema)) if schema.is_empty() => Additional::Open,
            Some(schema) => Additional::Schema(self.node(schema, &at("additionalProperties"))?),
        };
        if let Some(items) = map.get("items") {
            node.items = Some(self.node(items, &at("items"))?);
        }
        for keyword in ["allOf", "oneOf", "anyOf"] {
            let Some(members) = map.get(keyword) else { continue };
            let members = members.as_array().ok_or_else(|| anyhow!("{}: not a list", at(keyword)))?;
            for (index, member) in members.iter().enumerate() {
                let member = self.node(member, &format!("{}/{index}", at(keyword)))?;
                if keyword == "allOf" { node.all_of.push(member) } else { node.any_of.push(member) }
            }
        }
        Ok(node)
    }
}

fn format(name: &str, is_integer: bool) -> Option<Format> {
    match name {
        "date-time" => Some(Format::DateTime),
        "date" => Some(Format::Date),
        "int32" if is_integer => Some(Format::Int32),
        "int64" if is_integer => Some(Format::Int64),
        _ => None,
    }
}

fn pattern(source: &Value, pointer: &str) -> Result<(String, regress::Regex)> {
    let source = source.as_str().ok_or_else(|| anyhow!("{pointer}: not a string"))?;
    let regex = regress::Regex::with_flags(source, "u")
        .map_err(|error| anyhow!("{pointer}: not an ECMA-262 regular expression: {error}"))?;
    Ok((source.to_owned(), regex))
}

fn type_bit(name: &str) -> Option<u8> {
    TYPE_NAMES.iter().find(|(_, known)| *known == name).map(|(bit, _)| *bit)
}

/// A bound with OpenAPI 3.0's boolean exclusivity flag (or 3.1's number form).
fn bound(map: &Map<String, Value>, key: &str, exclusive_key: &str) -> Bound {
    match (map.get(key).and_then(Value::as_f64), map.get(exclusive_key)) {
        (Some(limit), Some(Value::Bool(exclusive))) => Some((limit, *exclusive)),
        (Some(limit), _) => Some((limit, false)),
        (None, Some(Value::Number(limit))) => limit.as_f64().map(|limit| (limit, true)),
        _ => None,
    }
}

/// RFC 3339 `date-time` (what JSON Schema's `format: date-time` means): a
/// full date, `T`, a time with seconds, optional fraction, and `Z` or an offset.
pub fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't') || !is_full_date(&bytes[..10]) {
        return false;
    }
    let time = &bytes[11..];
    let (Some(hour), Some(minute), Some(second)) = (digits(time, 0, 2), digits(time, 3, 2), digits(time, 6, 2)) else {
        return false;
    };
    if time[2] != b':' || time[5] != b':' || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &time[8..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] if rest.len() == 6 && rest[3] == b':' => {
            matches!((digits(rest, 1, 2), digits(rest, 4, 2)), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// RFC 3339 `full-date`: `YYYY-MM-DD`, a real day.
fn is_full_date(bytes: &[u8]) -> bool {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(bytes, 0, 4), digits(bytes, 5, 2), digits(bytes, 8, 2)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn digits(bytes: &[u8], start: usize, count: usize) -> Option<u32> {
    let slice = bytes.get(start..start + count)?;
    slice.iter().try_fold(0u32, |total, byte| byte.is_ascii_digit().then(|| total * 10 + u32::from(byte - b'0')))
}

/// Where an operation's success body is described: the `200` response (else
/// the first 2xx), its `application/json` content (else the first JSON one).
/// Returns (the schema's JSON pointer, the schema).
pub fn response_schema<'a>(
    doc: &'a Value,
    operation_pointer: &str,
    operation: &'a Value,
) -> Result<(String, &'a Value)> {
    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{operation_pointer}: no `responses`"))?;
    let (status, response) = responses
        .get_key_value("200")
        .or_else(|| responses.iter().find(|(status, _)| status.starts_with('2')))
        .ok_or_else(|| anyhow!("{operation_pointer}/responses: no 2xx response"))?;
    let pointer = format!("{operation_pointer}/responses/{}", escape_pointer(status));
    content_schema(doc, &pointer, response)
}

/// A response's JSON schema (following a `$ref` to `components/responses`).
pub fn content_schema<'a>(doc: &'a Value, pointer: &str, response: &'a Value) -> Result<(String, &'a Value)> {
    let (pointer, response) = match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            resolve(doc, reference).ok_or_else(|| anyhow!("{pointer}/$ref: `{reference}` points at nothing"))?
        }
        None => (pointer.to_owned(), response),
    };
    let content =
        response.get("content").and_then(Value::as_object).ok_or_else(|| anyhow!("{pointer}: no `content`"))?;
    let (media_type, media) = content
        .get_key_value("application/json")
        .or_else(|| content.iter().find(|(media_type, _)| media_type.contains("json")))
        .ok_or_else(|| anyhow!("{pointer}/content: no JSON media type"))?;
    let pointer = format!("{pointer}/content/{}/schema", escape_pointer(media_type));
    let schema = media.get("schema").with_context(|| format!("{pointer}: missing"))?;
    Ok((pointer, schema))
}

/// A path with array indexes collapsed: `data[].title`; `(root)` for the body itself.
pub fn collapsed(path: &[Segment]) -> String {
    if path.is_empty() {
        return "(root)".to_owned();
    }
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Index(_) => out.push_str("[]"),
            Segment::Key(key) => {
                let plain = !key.is_empty()
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '@');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    out.push('[');
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(']');
                }
            }
        }
    }
    out
}

/// The value at a path, if there is one.
pub fn value_at<'a>(body: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(body, |value, segment| match segment {
        Segment::Key(key) => value.get(key),
        Segment::Index(index) => value.get(index),
    })
}

/// At most `max` characters of `text`, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text[cut..].chars().nth(1).is_some() => format!("{}…", &text[..cut]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn findings(components: Value, root: Value, body: Value) -> Vec<String> {
        let doc = json!({"components": {"schemas": components}});
        let checker = Checker::new(&doc, &root, "/root").expect("compiles");
        let mut issues = Vec::new();
        checker.check(&body, &mut issues);
        issues
            .iter()
            .map(|issue| {
                format!("{} {} {}", collapsed(&issue.path), issue.kind.as_str(), issue.detail).trim_end().to_owned()
            })
            .collect()
    }

    #[test]
    fn types_enums_required_and_nullable() {
        let space = json!({
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "count": {"type": "integer", "format": "int32"},
                "state": {"type": "string", "enum": ["a", "b"]},
                "note": {"type": "string", "nullable": true},
                "ratio": {"type": "number"},
            },
        });
        let root = json!({"$ref": "#/components/schemas/S"});
        assert_eq!(
            findings(json!({"S": space}), root.clone(), json!({"id": "1", "count": 2.0, "ratio": 3, "note": null})),
            Vec::<String>::new()
        );
        assert_eq!(
            findings(
                json!({"S": space}),
                root,
                json!({"count": "2", "state": "c", "note": 1, "extra": {"x": 1}, "ratio": 5_000_000_000_i64})
            ),
            [
                "id required required, absent",
                "count type integer declared, string seen",
                "state enum not one of \"a\", \"b\"",
                "note type string or null declared, integer seen",
                "extra undeclared",
            ]
        );
    }

    #[test]
    fn int32_range_is_a_format_finding() {
        let root = json!({"type": "object", "properties": {"n": {"type": "integer", "format": "int32"}}});
        assert_eq!(
            findings(json!({}), root, json!({"n": 3_000_000_000_u64})),
            ["n format int32 declared, out of range"]
        );
    }

    #[test]
    fn one_of_is_judged_by_its_best_branch() {
        let components = json!({
            "Space": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}},
            "Error": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
            "Either": {"oneOf": [{"$ref": "#/components/schemas/Space"}, {"$ref": "#/components/schemas/Error"}]},
            "Lenient": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        });
        let root = json!({"$ref": "#/components/schemas/Either"});
        assert_eq!(findings(components.clone(), root.clone(), json!({"status": "error"})), Vec::<String>::new());
        assert_eq!(
            findings(components.clone(), root.clone(), json!({"id": "1", "n": "x", "new": 1})),
            ["n type integer declared, string seen", "new undeclared"]
        );
        let lenient = json!({"type": "object", "properties": {"t": {"$ref": "#/components/schemas/Lenient"}}});
        assert_eq!(findings(components.clone(), lenient.clone(), json!({"t": "1"})), Vec::<String>::new());
        assert_eq!(
            findings(components, lenient, json!({"t": true})),
            ["t type integer or string declared, boolean seen"]
        );
    }

    #[test]
    fn free_form_objects_are_not_reported() {
        let root = json!({"type": "object", "properties": {
            "label": {"type": "object"},
            "anything": {},
            "open": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true},
            "map": {"type": "object", "additionalProperties": {"type": "integer"}},
        }});
        let body = json!({"label": {"x": {"y": 1}}, "anything": {"z": 2}, "open": {"a": "1", "b": 2}, "map": {"k": 1, "j": "no"}});
        assert_eq!(findings(json!({}), root, body), ["map.j type integer declared, string seen"]);
    }

    #[test]
    fn all_of_members_declare_together() {
        let root = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
        ]});
        assert_eq!(findings(json!({}), root.clone(), json!({"a": "x", "b": 1})), Vec::<String>::new());
        assert_eq!(
            findings(json!({}), root, json!({"a": "x", "c": 1})),
            ["b required required, absent", "c undeclared"]
        );
    }

    #[test]
    fn a_field_several_all_of_members_declare_is_reported_once() {
        let root = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}},
            {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}},
        ]});
        assert_eq!(
            findings(json!({}), root, json!({"a": {"b": 1, "c": 2, "d": 3}})),
            ["a.b type string declared, integer seen", "a.c undeclared", "a.d undeclared"]
        );
    }

    #[test]
    fn formats_and_patterns() {
        let root = json!({"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
        }});
        let good = json!({"at": "2023-03-31T18:38:03.093Z", "day": "2024-02-29", "id": "123"});
        assert_eq!(findings(json!({}), root.clone(), good), Vec::<String>::new());
        let bad = json!({"at": "2021-7-14T04:35:55Z", "day": "2023-02-29", "id": "12a"});
        assert_eq!(
            findings(json!({}), root, bad),
            ["at format date-time declared", "day format date declared", "id pattern pattern `^[0-9]{1,19}$` declared"]
        );
    }

    #[test]
    fn x_audit_states_constraints_for_the_audit_only() {
        let root = json!({"type": "object", "x-audit": {"required": ["id"]}, "properties": {
            "id": {"type": "string"},
            "at": {"type": "string", "x-audit": {"pattern": "^[0-9]+$", "format": "date-time"}},
        }});
        assert_eq!(
            findings(json!({}), root, json!({"at": "x"})),
            ["id required required, absent", "at format date-time declared", "at pattern pattern `^[0-9]+$` declared"]
        );
        let doc = json!({});
        let unknown = json!({"type": "string", "x-audit": {"maxLength": 3}});
        let error = Checker::new(&doc, &unknown, "/s").expect_err("unknown key").to_string();
        assert!(error.contains("/s/x-audit/maxLength: unknown key"), "{error}");
    }

    #[test]
    fn a_refs_siblings_are_ignored_as_openapi_3_0_says() {
        let components = json!({"T": {"type": "string"}});
        let root = json!({"type": "object", "properties": {
            "sibling": {"$ref": "#/components/schemas/T", "nullable": true},
            "wrapped": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/T"}]},
        }});
        assert_eq!(
            findings(components, root, json!({"sibling": null, "wrapped": null})),
            ["sibling type string declared, null seen"]
        );
    }

    #[test]
    fn date_times() {
        for good in [
            "2023-03-31T18:38:03Z",
            "2023-03-31t18:38:03.5+02:00",
            "2016-12-31T23:59:60Z",
            "2007-06-16T00:14:36.000000Z",
        ] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in [
            "2021-7-14T04:35:55Z",
            "2023-03-31 18:38:03Z",
            "2023-03-31T18:38Z",
            "2023-03-31T24:00:00Z",
            "2023-03-31T18:38:03",
            "2023-03-31T18:38:03.Z",
            "2023-03-31T18:38:03+0200",
            "yesterday",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn bounds_read_openapi_3_0_flags() {
        let root = json!({"type": "integer", "minimum": 1, "maximum": 100, "exclusiveMaximum": true});
        assert_eq!(findings(json!({}), root.clone(), json!(100)), ["(root) constraint exclusive maximum 100"]);
        assert_eq!(findings(json!({}), root, json!(0)), ["(root) constraint minimum 1"]);
    }

    #[test]
    fn paths_collapse_arrays_and_quote_odd_keys() {
        let path =
            [Segment::Key("data".into()), Segment::Index(3), Segment::Key("title".into()), Segment::Key("a.b".into())];
        assert_eq!(collapsed(&path), r#"data[].title["a.b"]"#);
        assert_eq!(collapsed(&[Segment::Index(0), Segment::Key("id".into())]), "[].id");
        assert_eq!(collapsed(&[]), "(root)");
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcd", 4), "abcd");
        assert_eq!(clip("ééééé", 3), "éé…");
    }
}
