//! What changed in a generated client's API, read from the generated code
//! (not a text diff): types added or removed, struct fields and enum
//! variants added, removed or retyped, client methods whose signature
//! changed, and public statics (the spec's `SPEC`) added, removed or retyped
//! (not their values). Regen prints it under the provider's line, so a reviewer sees
//! the API change before reading a thousand lines of generated code.

use std::collections::BTreeMap;

use quote::ToTokens;

/// The public surface of one generated file: item name → its members.
type Surface = BTreeMap<String, Item>;

#[derive(Debug, PartialEq, Eq)]
enum Item {
    /// Field (or variant) name → its type, as written.
    Struct(BTreeMap<String, String>),
    Enum(BTreeMap<String, String>),
    /// A `Client` method: its parameters and return type.
    Method(String),
    /// A public static: its type.
    Static(String),
}

impl Item {
    fn kind(&self) -> &'static str {
        match self {
            Item::Struct(_) => "struct",
            Item::Enum(_) => "enum",
            Item::Method(_) => "method",
            Item::Static(_) => "static",
        }
    }
}

/// One line per change between `old` and `new` generated sources; empty
/// when the API is the same (or either side does not parse).
pub fn api_changes(old: &str, new: &str) -> Vec<String> {
    let (Some(old), Some(new)) = (surface(old), surface(new)) else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    for (name, item) in &new {
        match old.get(name) {
            None => changes.push(format!("+ {} {name}{}", item.kind(), members_summary(item))),
            Some(before) if before != item => changes.extend(member_changes(name, before, item)),
            Some(_) => {}
        }
    }
    for (name, item) in &old {
        if !new.contains_key(name) {
            changes.push(format!("- {} {name}", item.kind()));
        }
    }
    changes
}

fn members_summary(item: &Item) -> String {
    match item {
        Item::Struct(members) | Item::Enum(members) => {
            let names: Vec<&str> = members.keys().map(String::as_str).collect();
            format!(" {{ {} }}", names.join(", "))
        }
        Item::Method(signature) => signature.clone(),
        Item::Static(ty) => format!(": {ty}"),
    }
}

fn member_changes(name: &str, before: &Item, after: &Item) -> Vec<String> {
    match (before, after) {
        (Item::Struct(old), Item::Struct(new)) | (Item::Enum(old), Item::Enum(new)) => {
            let mut changes = Vec::new();
            for (member, ty) in new {
                match old.get(member) {
                    None => changes.push(format!("+ {name}.{member}: {ty}")),
                    Some(old_ty) if old_ty != ty => changes.push(format!("~ {name}.{member}: {old_ty} -> {ty}")),
                    Some(_) => {}
                }
            }
            for member in old.keys().filter(|member| !new.contains_key(*member)) {
                changes.push(format!("- {name}.{member}"));
            }
            changes
        }
        (Item::Method(old), Item::Method(new)) => vec![format!("~ method {name}: {old} -> {new}")],
        (Item::Static(old), Item::Static(new)) => vec![format!("~ static {name}: {old} -> {new}")],
        _ => vec![format!("~ {name}: {} -> {}", before.kind(), after.kind())],
    }
}

/// Types in the generated `types` module, methods of `impl Client`, and public statics.
fn surface(source: &str) -> Option<Surface> {
    let file = syn::parse_file(source).ok()?;
    let mut found = Surface::new();
    collect(&file.items, &mut found);
    Some(found)
}

fn collect(items: &[syn::Item], found: &mut Surface) {
    for item in items {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect(items, found);
                }
            }
            syn::Item::Struct(item) if matches!(item.vis, syn::Visibility::Public(_)) => {
                let fields = item
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(index, field)| {
                        let name = field.ident.as_ref().map_or_else(|| index.to_string(), ToString::to_string);
                        (name, tokens(&field.ty))
                    })
                    .collect();
                found.insert(item.ident.to_string(), Item::Struct(fields));
            }
            syn::Item::Enum(item) if matches!(item.vis, syn::Visibility::Public(_)) => {
                let variants =
                    item.variants.iter().map(|variant| (variant.ident.to_string(), tokens(&variant.fields))).collect();
                found.insert(item.ident.to_string(), Item::Enum(variants));
            }
            syn::Item::Static(item) if matches!(item.vis, syn::Visibility::Public(_)) => {
                found.insert(item.ident.to_string(), Item::Static(tokens(&item.ty)));
            }
            syn::Item::Impl(block) if block.trait_.is_none() && tokens(&block.self_ty) == "Client" => {
                for member in &block.items {
                    if let syn::ImplItem::Fn(method) = member
                        && matches!(method.vis, syn::Visibility::Public(_))
                    {
                        let signature = &method.sig;
                        let inputs = tokens(&signature.inputs);
                        let output = tokens(&signature.output);
                        let key = format!("Client::{}", signature.ident);
                        found.insert(key, Item::Method(format!("({inputs}) {output}").trim_end().to_owned()));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Tokens as compact text with paths cut to their last segment:
/// `Option<String>`, not `:: std :: option :: Option < :: std :: string :: String >`.
fn tokens(node: &impl ToTokens) -> String {
    let spaced = node.to_token_stream().to_string();
    let mut out = String::with_capacity(spaced.len());
    let mut rest = spaced.as_str();
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("::") {
            // Drop the path segment before `::` (and the space tokens left around it).
            let kept = out.trim_end().trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
            out.truncate(kept);
            rest = after.trim_start();
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& '", "&'")
}

#[cfg(test)]
mod tests {
    use super::api_changes;

    const OLD: &str = "pub mod types {
        pub struct Space { pub id: String, pub title: Option<String> }
        pub enum State { Live, Ended }
        pub struct Gone { pub x: i64 }
    }
    pub struct Client { baseurl: String }
    impl Client { pub fn get_space<'a>(&'a self, id: &'a str) -> Result<Space, Error> { todo!() } }";

    const NEW: &str = "pub mod types {
        pub struct Space { pub id: String, pub title: Option<i64>, pub lang: Option<String> }
        pub enum State { Live, Ended, Canceled }
        pub struct Topic { pub id: String }
    }
    pub struct Client { baseurl: String }
    impl Client { pub fn get_space<'a>(&'a self, id: &'a str, lang: Option<&'a str>) -> Result<Space, Error> { todo!() } }";

    #[test]
    fn reports_added_removed_and_retyped_members() {
        let changes = api_changes(OLD, NEW);
        for expected in [
            "+ Space.lang: Option<String>",
            "~ Space.title: Option<String> -> Option<i64>",
            "+ State.Canceled: ",
            "+ struct Topic { id }",
            "- struct Gone",
        ] {
            assert!(
                changes.iter().any(|change| change.trim_end() == expected.trim_end()),
                "{expected} in {changes:#?}"
            );
        }
        assert!(changes.iter().any(|change| change.starts_with("~ method Client::get_space:")), "{changes:#?}");
        assert_eq!(changes.len(), 6, "{changes:#?}");
        assert!(api_changes(NEW, NEW).is_empty());
    }

    #[test]
    fn a_static_is_reported_when_added_or_retyped_not_when_its_value_changes() {
        let without = "pub mod types { pub struct Space { pub id: String } }";
        let with = format!("{without} pub static SPEC: crate::SpecFacts = crate::SpecFacts {{ file: \"a\" }};");
        assert_eq!(api_changes(without, &with), ["+ static SPEC: SpecFacts"]);
        let other_value = with.replace("\"a\"", "\"b\"");
        assert!(api_changes(&with, &other_value).is_empty());
        let retyped = with.replace("SpecFacts =", "OtherFacts =");
        assert_eq!(api_changes(&with, &retyped), ["~ static SPEC: SpecFacts -> OtherFacts"]);
    }
}
