//! `--format table`: a readable summary of one Space.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use spaces::{Space, User};

use crate::output::shown;

/// Renders the summary: title, state, times in UTC, creator, counts, speakers.
pub fn render(space: &Space) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("Space", format!("{} (from {})", space.id, space.provider)),
        ("Title", text(space.title.as_deref())),
        ("State", state(space)),
        ("Created", time(space.created_at)),
        ("Scheduled", time(space.scheduled_start)),
        ("Started", time(space.started_at)),
        ("Ended", time(space.ended_at)),
        ("Creator", space.creator.as_ref().map(user).or_else(|| space.creator_id.clone()).unwrap_or_else(none)),
        ("Participants", number(space.participant_count)),
        ("Live listeners", number(space.total_live_listeners)),
        ("Replay views", number(space.total_replay_watched)),
        ("Subscribers", number(space.subscriber_count)),
    ];
    rows.push(("Hosts", people(space.hosts.as_deref(), space.host_ids.as_deref())));
    rows.push(("Speakers", people(space.speakers.as_deref(), space.speaker_ids.as_deref())));
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        // Titles, names and ids come from the provider: one row stays one line.
        let _ = writeln!(out, "{label:<width$}  {}", shown(&value));
    }
    out
}

fn none() -> String {
    "—".to_owned()
}

fn text(value: Option<&str>) -> String {
    value.map_or_else(none, str::to_owned)
}

fn state(space: &Space) -> String {
    match &space.state_raw {
        Some(raw) if raw != space.state.as_str() => format!("{} (provider says `{raw}`)", space.state),
        _ => space.state.to_string(),
    }
}

fn time(value: Option<DateTime<Utc>>) -> String {
    value.map_or_else(none, |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// 1324928 → `1,324,928`.
pub fn number(value: Option<u64>) -> String {
    let Some(value) = value else { return none() };
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn user(user: &User) -> String {
    let handle = user.username.as_ref().map_or_else(|| user.id.clone(), |name| format!("@{name}"));
    let mut out = match &user.name {
        Some(name) => format!("{handle} ({name})"),
        None => handle,
    };
    if user.followers_count.is_some() {
        let _ = write!(out, ", {} followers", number(user.followers_count));
    }
    out
}

/// Resolved users by handle; ids the provider did not resolve are listed as ids.
fn people(users: Option<&[User]>, ids: Option<&[String]>) -> String {
    let mut names: Vec<String> = users
        .unwrap_or_default()
        .iter()
        .map(|user| user.username.as_ref().map_or_else(|| user.id.clone(), |name| format!("@{name}")))
        .collect();
    for id in ids.unwrap_or_default() {
        if !users.unwrap_or_default().iter().any(|user| &user.id == id) {
            names.push(id.clone());
        }
    }
    if names.is_empty() && users.is_none() && ids.is_none() { none() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn groups_thousands() {
        assert_eq!(number(Some(1_324_928)), "1,324,928");
        assert_eq!(number(Some(999)), "999");
        assert_eq!(number(Some(1000)), "1,000");
        assert_eq!(number(None), "—");
    }
}
