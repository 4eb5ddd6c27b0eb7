//! Runs progenitor on one spec and formats the result with prettyplease.
//!
//! progenitor panics on some spec shapes instead of returning an error; the
//! panic is caught here and turned into an error naming the spec and, when it
//! can be pinned down, the operation.

use std::panic::{self, AssertUnwindSafe};

use anyhow::{Result, anyhow};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::Value;

use crate::lint::comma_list;
use crate::spec::{Spec, operations};

/// The Rust source of one provider's generated module, formatted, without the header.
pub fn generate(spec: &Spec) -> Result<String> {
    let settings = settings(spec);
    let outcome = generate_quietly(&settings, &spec.value)
        .map_err(|error| anyhow!("{}: {error}", spec.display_path.display()))?;
    let tokens = match outcome {
        Ok(tokens) => tokens,
        Err(panic_message) => return Err(explain_panic(spec, &settings, &panic_message)),
    };
    let file = syn::parse2::<syn::File>(tokens).map_err(|error| {
        anyhow!("{}: progenitor produced code that does not parse: {error}", spec.display_path.display())
    })?;
    Ok(prettyplease::unparse(&file))
}

fn settings(spec: &Spec) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        // Positional methods: a quarter of the Builder output for GET-only specs.
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        // The generated crate's lib.rs implements `ClientHooks` (to strip the
        // `api-version` header); make forgetting that a compile error.
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

/// Generates under `catch_unwind` with the panic message kept off stderr.
/// The outer `Result` is a generator error; the inner `Err` a panic message.
fn generate_quietly(settings: &GenerationSettings, doc: &Value) -> Result<Result<proc_macro2::TokenStream, String>> {
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|error| anyhow!("not a valid OpenAPI 3.0 document: {error}"))?;
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| Generator::new(settings).generate_tokens(&openapi)));
    panic::set_hook(previous_hook);
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

/// Re-runs generation one operation at a time to name the one that panics.
fn explain_panic(spec: &Spec, settings: &GenerationSettings, message: &str) -> anyhow::Error {
    let spec_name = spec.display_path.display();
    for (pointer, method, path, _) in operations(&spec.value) {
        let mut single = spec.value.clone();
        if let Some(paths) = single.get_mut("paths").and_then(Value::as_object_mut) {
            paths.retain(|key, _| key == path);
            if let Some(item) = paths.get_mut(path).and_then(Value::as_object_mut) {
                item.retain(|key, _| key == method || !crate::spec::METHODS.contains(&key.as_str()));
            }
        }
        if let Ok(Err(_)) = generate_quietly(settings, &single) {
            let operation_id = spec
                .value
                .pointer(&format!("{pointer}/operationId"))
                .and_then(Value::as_str)
                .unwrap_or("<no operationId>");
            return anyhow!("{spec_name}: progenitor panicked on operation `{operation_id}` ({}): {message}", pointer);
        }
    }
    anyhow!("{spec_name}: progenitor panicked: {message}")
}
