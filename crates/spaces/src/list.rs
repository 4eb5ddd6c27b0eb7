//! What a body or a call that holds several Spaces gives: the Spaces, and
//! every problem it reported or caused, each with the Space id it concerns
//! when one is known. Nothing in such a body is dropped on the way: what
//! does not cost a Space its answer is a [`Warning`].

use std::collections::HashMap;
use std::fmt;

use crate::error::Error;
use crate::model::{Provider, Space};
use crate::text::escape_controls;

/// The Spaces of a multi-Space answer (X's `GET /2/spaces`, `/2/spaces/search`,
/// `/2/spaces/by/creator_ids`), and its problems.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceList {
    /// Every Space that came back and converted, in the body's order, each
    /// id once (see [`Warning::Duplicate`]).
    pub spaces: Vec<Space>,
    /// Every partial error the body carried (a Space not found, a user that
    /// could not be returned) and every item that did not convert.
    pub errors: Vec<ItemError>,
    /// What was odd about the answer without failing any Space.
    pub warnings: Vec<Warning>,
    /// The body's `meta.result_count`, where it has one (search, by creator).
    pub result_count: Option<u64>,
}

impl SpaceList {
    /// Keeps the first copy of each Space id, in the body's order, and
    /// warns of every later one: the same answer is always resolved the
    /// same way, and never silently.
    pub(crate) fn deduplicated(mut self, provider: Provider) -> SpaceList {
        let mut kept: Vec<Space> = Vec::with_capacity(self.spaces.len());
        let mut first_at: HashMap<String, usize> = HashMap::with_capacity(self.spaces.len());
        for space in std::mem::take(&mut self.spaces) {
            match first_at.get(&space.id) {
                Some(&at) => {
                    let identical = kept[at] == space;
                    self.warnings.push(Warning::Duplicate { provider, id: space.id, identical });
                }
                None => {
                    first_at.insert(space.id.clone(), kept.len());
                    kept.push(space);
                }
            }
        }
        self.spaces = kept;
        self
    }
}

/// One requested id's outcome in a bulk lookup: a Space or an [`Error`]
/// from one provider ([`Client::lookup`](crate::Client::lookup)); an
/// [`Answer`](crate::Answer) or [`AllFailed`](crate::AllFailed) from several
/// ([`Providers::lookup`](crate::Providers::lookup)).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<T = Space, E = Error> {
    /// The id as it was asked for.
    pub id: String,
    /// Its Space, or why there is none.
    pub result: Result<T, E>,
    /// What was odd about the answer it came in, without costing it its result.
    pub warnings: Vec<Warning>,
}

impl<T, E> Outcome<T, E> {
    pub(crate) fn of(id: String, result: Result<T, E>) -> Outcome<T, E> {
        Outcome { id, result, warnings: Vec::new() }
    }
}

/// One problem inside a multi-Space answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemError {
    /// The Space id it is about, when the problem names a Space (`None` for
    /// a problem about a user, or an item without a readable id). It comes
    /// from the provider: escape it before showing it
    /// ([`escape_controls`](crate::escape_controls)).
    pub id: Option<String>,
    /// What went wrong.
    pub error: Error,
}

/// Something odd in an answer that did not cost any requested Space its
/// outcome, reported rather than dropped.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// The answer held this Space more than once; the first copy, in the
    /// answer's order, was kept.
    Duplicate {
        /// The provider that answered.
        provider: Provider,
        /// The Space id.
        id: String,
        /// Whether the copies were the same in every field.
        identical: bool,
    },
    /// The answer held a Space that was not asked for; it was left out.
    Unrequested {
        /// The provider that answered.
        provider: Provider,
        /// The id of the Space it sent.
        id: String,
    },
    /// The answer reported a problem about none of the Spaces asked for,
    /// such as a user an expansion names that could not be returned.
    Unattributed(Error),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Duplicate { provider, id, identical } => {
                let copies = if *identical { "identical copies" } else { "copies that differ" };
                write!(
                    f,
                    "{provider}: the answer holds Space {} more than once ({copies}); the first is kept",
                    escape_controls(id)
                )
            }
            Warning::Unrequested { provider, id } => {
                write!(
                    f,
                    "{provider}: the answer holds Space {}, which was not asked for; left out",
                    escape_controls(id)
                )
            }
            Warning::Unattributed(error) => write!(f, "{error}"),
        }
    }
}

/// A raw body decoded by [`decode_any`](crate::decode_any): one Space, or several.
// Not boxed: a `Decoded` is made once per body and taken apart at once, and a
// box would cost every single-Space decode an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    /// A single-Space body (every provider's lookup).
    One(Space),
    /// A multi-Space body (X's batch lookup, search and by-creator endpoints).
    Many(SpaceList),
}
