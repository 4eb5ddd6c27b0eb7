//! The bit of command-line reading `audit` and `fixture add` share: a flag
//! is `--flag value` or `--flag=value`.

use std::slice::Iter;

/// One flag argument, its inline `=value` split off.
pub(crate) struct Flag<'a> {
    /// The flag itself (`--provider`).
    pub name: &'a str,
    /// The value given as `--flag=value`, if any.
    pub inline: Option<String>,
}

impl<'a> Flag<'a> {
    pub fn split(arg: &'a str) -> Self {
        match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => Flag { name, inline: Some(value.to_owned()) },
            _ => Flag { name: arg, inline: None },
        }
    }

    /// The flag's value: inline, else the next argument; never empty.
    pub fn value(&self, rest: &mut Iter<'_, String>) -> Result<String, String> {
        self.inline
            .clone()
            .or_else(|| rest.next().cloned())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("`{}` needs a value", self.name))
    }
}
