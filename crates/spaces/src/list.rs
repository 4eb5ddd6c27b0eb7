//! What a body or a call that holds several Spaces gives: the Spaces, and
//! every problem it reported or caused, each with the Space id it concerns
//! when one is known. Nothing in such a body is dropped on the way.

use crate::error::Error;
use crate::model::Space;

/// The Spaces of a multi-Space answer (X's `GET /2/spaces`, `/2/spaces/search`,
/// `/2/spaces/by/creator_ids`), and its problems.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceList {
    /// Every Space that came back and converted, in the body's order.
    pub spaces: Vec<Space>,
    /// Every partial error the body carried (a Space not found, a user that
    /// could not be returned) and every item that did not convert.
    pub errors: Vec<ItemError>,
    /// The body's `meta.result_count`, where it has one (search, by creator).
    pub result_count: Option<u64>,
}

/// One problem inside a multi-Space answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemError {
    /// The Space id it is about, when the problem names a Space (`None` for
    /// a problem about a user, or an item without a readable id).
    pub id: Option<String>,
    /// What went wrong.
    pub error: Error,
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
