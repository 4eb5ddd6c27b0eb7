//! Runs progenitor on one spec, appends the spec's facts (`pub static SPEC`),
//! and formats the result with prettyplease.
//!
//! progenitor panics on some spec shapes instead of returning an error; the
//! panic is caught here and turned into an error naming the spec and, when it
//! can be pinned down, the operation. The panic hook that keeps that panic's
//! message off stderr is installed once and is silent only on a thread that is
//! generating, so it never swallows another thread's panic (parallel tests).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use anyhow::{Result, anyhow};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::Value;

use crate::facts::{self, Facts};
use crate::lint::comma_list;
use crate::spec::{Spec, operations};

/// The Rust source of one provider's generated module, formatted, without
/// the header: progenitor's client and types, then `SPEC` from `facts`.
pub fn generate(spec: &Spec, facts: &Facts) -> Result<String> {
    let spec_name = spec.display_path.display();
    let settings = settings(spec);
    let doc = for_progenitor(&spec.value);
    let outcome = generate_quietly(&settings, &doc).map_err(|error| anyhow!("{spec_name}: {error}"))?;
    let tokens = match outcome {
        Ok(tokens) => tokens,
        Err(panic_message) => return Err(explain_panic(spec, &doc, &settings, &panic_message)),
    };
    let mut file = syn::parse2::<syn::File>(tokens)
        .map_err(|error| anyhow!("{spec_name}: progenitor produced code that does not parse: {error}"))?;
    let spec_facts = facts::tokens(facts, &type_names(&file)).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|problem| format!("{spec_name}: {problem}")).collect();
        anyhow!("{}", lines.join("\n"))
    })?;
    let spec_facts = syn::parse2::<syn::File>(spec_facts)
        .map_err(|error| anyhow!("{spec_name}: regen produced facts that do not parse: {error}"))?;
    file.items.extend(spec_facts.items);
    Ok(prettyplease::unparse(&file))
}

/// Keywords of a parameter value's schema that progenitor (typify 0.8) turns
/// into a validating newtype, and that are therefore taken out of the copy
/// of the spec it is handed:
/// - `pattern`: a newtype with a private field, built only through a fallible
///   `TryFrom`/`FromStr` that matches with `regress`. On the path `id` it
///   replaces the method's `id: &str` with `&types::FindSpaceByIdId`; on the
///   items of a list (`SpaceId`, `UserId`) it makes `SpaceId(pub String)`
///   private and drops its `From<String>` and `Display`.
/// - `minLength`/`maxLength`: the same kind of newtype (a length check):
///   `query: &str` would become `&types::SearchSpacesQuery`.
///
/// Either would change the generated methods' signatures for a check the
/// library already makes before sending, from the same rules, which regen
/// states as facts (`Param::rules`, read from the spec as written, so they
/// keep these keywords). The other rule keywords are left in: typify ignores
/// `minItems`/`maxItems` on a query array (a plain `Vec`, and regen swaps
/// named lists for `CommaSeparated` anyway) and `maximum` on an integer, and
/// makes `minimum: 1` a `NonZeroU32`, the type the search method has always
/// taken for `max_results`.
pub const KEPT_FROM_PROGENITOR: [&str; 3] = ["pattern", "minLength", "maxLength"];

/// The spec as progenitor gets it: [`KEPT_FROM_PROGENITOR`] taken out of every
/// parameter value's schema (`facts::value_schemas`), the rest untouched.
/// Only request-side schemas are touched; a keyword in a response schema
/// reaches progenitor as written.
pub fn for_progenitor(doc: &Value) -> Value {
    let mut copy = doc.clone();
    for pointer in facts::value_schemas(doc) {
        if let Some(schema) = copy.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            for keyword in KEPT_FROM_PROGENITOR {
                schema.remove(keyword);
            }
        }
    }
    copy
}

/// The names of the items in the generated `types` module.
fn type_names(file: &syn::File) -> BTreeSet<String> {
    let types = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_ref().map(|(_, items)| items),
        _ => None,
    });
    types
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item.ident.to_string()),
            syn::Item::Enum(item) => Some(item.ident.to_string()),
            syn::Item::Type(item) => Some(item.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn settings(spec: &Spec) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        // Positional methods: a quarter of the Builder output for GET-only specs.
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        // The generated crate's lib.rs implements `ClientHooks` for every
        // module (to strip the `api-version` header); make forgetting that a
        // compile error.
        .with_hooks(HooksMode::Expected);
    for (list, item) in comma_lists(&spec.value) {
        let joined = format!("crate::CommaSeparated<crate::{}::types::{item}>", spec.provider);
        settings.with_replacement(list, joined, std::iter::empty());
    }
    settings
}

/// Named list schemas used by `explode: false` query parameters (see
/// `lint::check_list_parameters`), deduplicated and sorted for determinism.
fn comma_lists(doc: &Value) -> std::collections::BTreeSet<(String, String)> {
    operations(doc)
        .into_iter()
        .flat_map(|(_, _, _, operation)| {
            operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default()
        })
        .filter(|parameter| parameter.get("explode") == Some(&Value::Bool(false)))
        .filter_map(|parameter| comma_list(doc, &parameter))
        .collect()
}

thread_local! {
    /// Whether this thread is inside [`generate_quietly`].
    static GENERATING: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once per process, a panic hook that wraps the previous one and
/// stays silent while the panicking thread is generating. Nothing global is
/// swapped afterwards, so concurrent generations (parallel tests) cannot
/// leave a silent hook behind or hide another thread's panic.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // `try_with`: a panic while the thread's locals are being torn down is reported.
            if !GENERATING.try_with(Cell::get).unwrap_or(false) {
                previous(info);
            }
        }));
    });
}

/// Marks the current thread as generating until dropped (also on unwind).
struct Generating {
    was: bool,
}

impl Generating {
    fn start() -> Self {
        install_quiet_hook();
        Self { was: GENERATING.replace(true) }
    }
}

impl Drop for Generating {
    fn drop(&mut self) {
        GENERATING.set(self.was);
    }
}

/// Generates under `catch_unwind` with the panic message kept off stderr.
/// The outer `Result` is a generator error; the inner `Err` a panic message.
fn generate_quietly(settings: &GenerationSettings, doc: &Value) -> Result<Result<proc_macro2::TokenStream, String>> {
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|error| anyhow!("not a valid OpenAPI 3.0 document: {error}"))?;
    let outcome = {
        let _quiet = Generating::start();
        panic::catch_unwind(AssertUnwindSafe(|| Generator::new(settings).generate_tokens(&openapi)))
    };
    match outcome {
        Ok(Ok(tokens)) => Ok(Ok(tokens)),
        Ok(Err(error)) => Err(anyhow!("progenitor rejected the spec: {error}")),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Ok(Err(message))
        }
    }
}

/// Re-runs generation of `doc` (the spec as progenitor got it) one operation
/// at a time to name the one that panics.
fn explain_panic(spec: &Spec, doc: &Value, settings: &GenerationSettings, message: &str) -> anyhow::Error {
    let spec_name = spec.display_path.display();
    for (pointer, method, path, _) in operations(doc) {
        let mut single = doc.clone();
        if let Some(paths) = single.get_mut("paths").and_then(Value::as_object_mut) {
            paths.retain(|key, _| key == path);
            if let Some(item) = paths.get_mut(path).and_then(Value::as_object_mut) {
                item.retain(|key, _| key == method || !crate::spec::METHODS.contains(&key.as_str()));
            }
        }
        if let Ok(Err(_)) = generate_quietly(settings, &single) {
            let operation_id =
                doc.pointer(&format!("{pointer}/operationId")).and_then(Value::as_str).unwrap_or("<no operationId>");
            return anyhow!("{spec_name}: progenitor panicked on operation `{operation_id}` ({}): {message}", pointer);
        }
    }
    anyhow!("{spec_name}: progenitor panicked: {message}")
}
