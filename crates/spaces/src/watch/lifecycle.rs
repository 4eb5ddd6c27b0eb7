//! The lifecycle of one watched Space, as a pure function: what was known of
//! it, plus what was just observed, gives what is known now and the events
//! the change stands for. No I/O, no clock: the watcher feeds it, the store
//! keeps its result, and the tests walk every pair.
//!
//! A Space goes scheduled → live → ended, or scheduled → canceled, and its
//! scheduled start may move (rescheduled). It can also vanish: a lookup
//! that no longer finds it makes it `gone`. Ended, canceled and gone are
//! final: a final Space is never asked about again, and nothing it is later
//! said to be changes it (states never go back; a provider still listing
//! it is behind).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Space, SpaceState};

/// What happened to a watched Space. Ordered as a lifecycle goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// First seen, not started yet.
    Scheduled,
    /// Went live (or first seen live).
    Started,
    /// Its scheduled start moved.
    Rescheduled,
    /// It was live, and is over.
    Ended,
    /// Called off before it started.
    Canceled,
    /// No longer found: deleted, or no longer visible to this app.
    Gone,
}

impl EventKind {
    /// Every kind.
    pub const ALL: &'static [EventKind] = <EventKind as strum::VariantArray>::VARIANTS;

    /// The kind's name on the wire and in the store: `scheduled`, `started`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Scheduled => "scheduled",
            EventKind::Started => "started",
            EventKind::Rescheduled => "rescheduled",
            EventKind::Ended => "ended",
            EventKind::Canceled => "canceled",
            EventKind::Gone => "gone",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventKind {
    type Err = String;

    fn from_str(name: &str) -> Result<EventKind, String> {
        EventKind::ALL.iter().copied().find(|kind| kind.as_str() == name).ok_or_else(|| format!("no event `{name}`"))
    }
}

/// Where a watched Space is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Announced, not started.
    Scheduled,
    /// On air.
    Live,
    /// Over (final).
    Ended,
    /// Called off (final).
    Canceled,
    /// Not found any more (final).
    Gone,
}

impl Phase {
    /// Every phase.
    pub const ALL: &'static [Phase] = <Phase as strum::VariantArray>::VARIANTS;

    /// Whether nothing more can happen: ended, canceled or gone.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Ended | Phase::Canceled | Phase::Gone)
    }

    /// The phase's name in the store: `scheduled`, `live`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Scheduled => "scheduled",
            Phase::Live => "live",
            Phase::Ended => "ended",
            Phase::Canceled => "canceled",
            Phase::Gone => "gone",
        }
    }

    /// The phase a Space's normalized state stands for; `None` for a state
    /// no mapping knows (it moves nothing).
    pub fn of(state: SpaceState) -> Option<Phase> {
        match state {
            SpaceState::Scheduled => Some(Phase::Scheduled),
            SpaceState::Live => Some(Phase::Live),
            SpaceState::Ended => Some(Phase::Ended),
            SpaceState::Canceled => Some(Phase::Canceled),
            SpaceState::Unknown => None,
        }
    }
}

impl std::str::FromStr for Phase {
    type Err = String;

    fn from_str(name: &str) -> Result<Phase, String> {
        Phase::ALL.iter().copied().find(|phase| phase.as_str() == name).ok_or_else(|| format!("no phase `{name}`"))
    }
}

/// What is known of a watched Space between polls (the store keeps it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// Where it is.
    pub phase: Phase,
    /// Its scheduled start, as last seen (a change of it is `rescheduled`).
    pub scheduled_start: Option<DateTime<Utc>>,
}

/// What was just learned of a Space.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'a> {
    /// The provider described it (in a by-creator list, a lookup, or a push
    /// event hydrated by a lookup).
    Space(&'a Space),
    /// A lookup found no such Space.
    NotFound,
}

/// What was known, plus what was seen: what is known now (`None`: still
/// nothing, it was never tracked and is not worth tracking) and the events,
/// in the order they happened. See the module docs for the rules; the
/// transition table is in the tests, every pair.
pub fn advance(before: Option<&Known>, seen: Seen<'_>) -> (Option<Known>, Vec<EventKind>) {
    let (phase, scheduled_start) = match seen {
        Seen::Space(space) => match Phase::of(space.state) {
            Some(phase) => (phase, space.scheduled_start),
            // A state no mapping knows tells nothing: what was known stands.
            None => return (before.cloned(), Vec::new()),
        },
        Seen::NotFound => (Phase::Gone, None),
    };
    let now = |phase| {
        Some(Known { phase, scheduled_start: scheduled_start.or(before.and_then(|known| known.scheduled_start)) })
    };
    let Some(known) = before else {
        // First sighting. A Space never tracked that is not found is nothing to report.
        let events = match phase {
            Phase::Scheduled => vec![EventKind::Scheduled],
            Phase::Live => vec![EventKind::Started],
            Phase::Ended => vec![EventKind::Ended],
            Phase::Canceled => vec![EventKind::Canceled],
            Phase::Gone => return (None, Vec::new()),
        };
        return (now(phase), events);
    };
    if known.phase.is_final() {
        // Nothing changes a final Space.
        return (Some(known.clone()), Vec::new());
    }
    let events = match (known.phase, phase) {
        (Phase::Scheduled, Phase::Scheduled) => {
            let moved = matches!((known.scheduled_start, scheduled_start), (Some(was), Some(is)) if was != is);
            if moved { vec![EventKind::Rescheduled] } else { Vec::new() }
        }
        (Phase::Scheduled, Phase::Live) => vec![EventKind::Started],
        // It went live and ended between two looks: both happened.
        (Phase::Scheduled, Phase::Ended) => vec![EventKind::Started, EventKind::Ended],
        (Phase::Scheduled | Phase::Live, Phase::Canceled) => vec![EventKind::Canceled],
        (Phase::Scheduled | Phase::Live, Phase::Gone) => vec![EventKind::Gone],
        (Phase::Live, Phase::Ended) => vec![EventKind::Ended],
        (Phase::Live, Phase::Live) => Vec::new(),
        // States never go back: a provider saying scheduled about a live Space is behind.
        (Phase::Live, Phase::Scheduled) => return (Some(known.clone()), Vec::new()),
        (Phase::Ended | Phase::Canceled | Phase::Gone, _) => Vec::new(),
    };
    (now(phase), events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Provider;

    fn space(state: SpaceState, scheduled_start: Option<&str>) -> Space {
        let mut space: Space = serde_json::from_value(
            serde_json::json!({"provider": Provider::X, "id": "1jMJgLdenVjxL", "state": "unknown"}),
        )
        .expect("a bare Space");
        space.state = state;
        space.scheduled_start = scheduled_start.map(|at| at.parse().expect("a time"));
        space
    }

    const AT: &str = "2026-12-03T18:00:00Z";
    const LATER: &str = "2026-12-03T19:00:00Z";

    fn known(phase: Phase) -> Known {
        Known { phase, scheduled_start: Some(AT.parse().expect("a time")) }
    }

    /// Every (before, seen) pair: the phase after and the events.
    #[test]
    fn the_transition_table_every_pair() {
        use EventKind as E;
        use Phase as P;
        let states = [
            ("scheduled", Some(space(SpaceState::Scheduled, Some(AT)))),
            ("rescheduled", Some(space(SpaceState::Scheduled, Some(LATER)))),
            ("live", Some(space(SpaceState::Live, Some(AT)))),
            ("ended", Some(space(SpaceState::Ended, Some(AT)))),
            ("canceled", Some(space(SpaceState::Canceled, Some(AT)))),
            ("unknown", Some(space(SpaceState::Unknown, Some(AT)))),
            ("not found", None),
        ];
        // (before, seen) → (after, events); `None` before is the first sighting.
        type Row = (Option<P>, &'static str, Option<P>, &'static [E]);
        let table: [Row; 42] = [
            (None, "scheduled", Some(P::Scheduled), &[E::Scheduled]),
            (None, "rescheduled", Some(P::Scheduled), &[E::Scheduled]),
            (None, "live", Some(P::Live), &[E::Started]),
            (None, "ended", Some(P::Ended), &[E::Ended]),
            (None, "canceled", Some(P::Canceled), &[E::Canceled]),
            (None, "unknown", None, &[]),
            (None, "not found", None, &[]),
            (Some(P::Scheduled), "scheduled", Some(P::Scheduled), &[]),
            (Some(P::Scheduled), "rescheduled", Some(P::Scheduled), &[E::Rescheduled]),
            (Some(P::Scheduled), "live", Some(P::Live), &[E::Started]),
            (Some(P::Scheduled), "ended", Some(P::Ended), &[E::Started, E::Ended]),
            (Some(P::Scheduled), "canceled", Some(P::Canceled), &[E::Canceled]),
            (Some(P::Scheduled), "unknown", Some(P::Scheduled), &[]),
            (Some(P::Scheduled), "not found", Some(P::Gone), &[E::Gone]),
            (Some(P::Live), "scheduled", Some(P::Live), &[]),
            (Some(P::Live), "rescheduled", Some(P::Live), &[]),
            (Some(P::Live), "live", Some(P::Live), &[]),
            (Some(P::Live), "ended", Some(P::Ended), &[E::Ended]),
            (Some(P::Live), "canceled", Some(P::Canceled), &[E::Canceled]),
            (Some(P::Live), "unknown", Some(P::Live), &[]),
            (Some(P::Live), "not found", Some(P::Gone), &[E::Gone]),
            (Some(P::Ended), "scheduled", Some(P::Ended), &[]),
            (Some(P::Ended), "rescheduled", Some(P::Ended), &[]),
            (Some(P::Ended), "live", Some(P::Ended), &[]),
            (Some(P::Ended), "ended", Some(P::Ended), &[]),
            (Some(P::Ended), "canceled", Some(P::Ended), &[]),
            (Some(P::Ended), "unknown", Some(P::Ended), &[]),
            (Some(P::Ended), "not found", Some(P::Ended), &[]),
            (Some(P::Canceled), "scheduled", Some(P::Canceled), &[]),
            (Some(P::Canceled), "rescheduled", Some(P::Canceled), &[]),
            (Some(P::Canceled), "live", Some(P::Canceled), &[]),
            (Some(P::Canceled), "ended", Some(P::Canceled), &[]),
            (Some(P::Canceled), "canceled", Some(P::Canceled), &[]),
            (Some(P::Canceled), "unknown", Some(P::Canceled), &[]),
            (Some(P::Canceled), "not found", Some(P::Canceled), &[]),
            (Some(P::Gone), "scheduled", Some(P::Gone), &[]),
            (Some(P::Gone), "rescheduled", Some(P::Gone), &[]),
            (Some(P::Gone), "live", Some(P::Gone), &[]),
            (Some(P::Gone), "ended", Some(P::Gone), &[]),
            (Some(P::Gone), "canceled", Some(P::Gone), &[]),
            (Some(P::Gone), "unknown", Some(P::Gone), &[]),
            (Some(P::Gone), "not found", Some(P::Gone), &[]),
        ];
        let befores: Vec<Option<P>> = std::iter::once(None).chain(P::ALL.iter().copied().map(Some)).collect();
        assert_eq!(table.len(), befores.len() * states.len(), "every pair, once");
        for (before, seen_name, after, events) in table {
            let (_, seen) = states.iter().find(|(name, _)| *name == seen_name).expect("a state");
            let seen = seen.as_ref().map_or(Seen::NotFound, Seen::Space);
            let before_known = before.map(known);
            let (now, got) = advance(before_known.as_ref(), seen);
            assert_eq!(now.map(|known| known.phase), after, "{before:?} + {seen_name}");
            assert_eq!(got, events, "{before:?} + {seen_name}");
        }
    }

    #[test]
    fn the_latest_scheduled_start_is_kept_and_a_missing_one_moves_nothing() {
        let (now, events) =
            advance(Some(&known(Phase::Scheduled)), Seen::Space(&space(SpaceState::Scheduled, Some(LATER))));
        assert_eq!(events, [EventKind::Rescheduled]);
        assert_eq!(now.and_then(|known| known.scheduled_start), LATER.parse().ok());
        let (now, events) = advance(Some(&known(Phase::Scheduled)), Seen::Space(&space(SpaceState::Scheduled, None)));
        assert!(events.is_empty(), "no time given is no move");
        assert_eq!(now.and_then(|known| known.scheduled_start), AT.parse().ok(), "the known time stands");
    }

    #[test]
    fn names_round_trip() {
        for &kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        for &phase in Phase::ALL {
            assert_eq!(phase.as_str().parse::<Phase>(), Ok(phase));
        }
    }
}
