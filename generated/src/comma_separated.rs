//! Query lists sent as one comma-separated value.
//!
//! progenitor sends query arrays as repeated keys (`?a=1&a=2`) and ignores
//! `explode: false`. X wants `?space.fields=a,b`, so `cargo xtask regen`
//! swaps each `explode: false` list schema for this type.

use std::fmt;

use serde::{Serialize, Serializer};

/// A list serialized as one comma-joined string, e.g. `created_at,title`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommaSeparated<T>(pub Vec<T>);

impl<T> FromIterator<T> for CommaSeparated<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self(items.into_iter().collect())
    }
}

impl<T: fmt::Display> fmt::Display for CommaSeparated<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            item.fmt(f)?;
        }
        Ok(())
    }
}

impl<T: fmt::Display> Serialize for CommaSeparated<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::CommaSeparated;

    #[test]
    fn joins_with_commas_and_no_spaces() {
        let list: CommaSeparated<&str> = ["created_at", "title", "host_ids"].into_iter().collect();
        assert_eq!(list.to_string(), "created_at,title,host_ids");
        assert_eq!(CommaSeparated::<&str>::default().to_string(), "");
    }
}
