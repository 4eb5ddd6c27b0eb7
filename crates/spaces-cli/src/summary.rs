//! `--format table`: a readable summary of one Space, and of one merged
//! from several providers (with the source of each field).

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;
use spaces::{FieldValue, Merged, Provider, Space, User};

use crate::compare::{cell, flatten};
use crate::output::shown;
use crate::table::{self, Row};

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

/// The merged Space as a table of field, value and source (the provider
/// the value came from), at most `width` columns wide; `*` marks a field
/// the providers disagreed on, and each such conflict is listed below it.
pub fn merged_table(merged: &Merged, answered: &[Provider], asked: &[Provider], width: usize) -> String {
    let names =
        |providers: &[Provider]| providers.iter().map(|provider| provider.as_str()).collect::<Vec<_>>().join(", ");
    let unanswered: Vec<Provider> = asked.iter().copied().filter(|provider| !answered.contains(provider)).collect();
    let failed =
        if unanswered.is_empty() { String::new() } else { format!(" ({} failed, see stderr)", names(&unanswered)) };
    let intro = format!(
        "Space {} merged from {}{failed}. `source` is the provider of each value; \
         `*` marks fields the providers disagree on (listed below); `—` means no provider had it.",
        merged.space.id,
        names(answered),
    );
    let header = ["field".to_owned(), "value".to_owned(), "source".to_owned()];
    let rows: Vec<Row> = flatten(&merged.space)
        .into_iter()
        .map(|(field, value)| {
            let marked = merged.conflicts.iter().any(|conflict| conflict.field == field);
            let value = Some(value).filter(|value| !value.is_null());
            let source = merged.source(&field).filter(|_| value.is_some()).map_or("—", Provider::as_str).to_owned();
            Row { marked, cells: vec![field, cell(value.as_ref()), source] }
        })
        .collect();
    let mut out = format!("{}{}", table::fill(&intro, width), table::render(&header, &rows, width));
    if !merged.conflicts.is_empty() {
        out.push_str("\nConflicts:\n");
        for conflict in &merged.conflicts {
            let values: Vec<String> =
                conflict.values.iter().map(|(provider, value)| format!("{provider} {}", quoted(value))).collect();
            let line = format!("{}: {}; chosen: {}", conflict.field, values.join(", "), conflict.chosen);
            let line = crate::output::shown(&line);
            for (index, line) in table::wrap(&line, width.saturating_sub(4).max(1)).into_iter().enumerate() {
                out.push_str(if index == 0 { "  " } else { "    " });
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

/// A value as a conflict line shows it: strings in quotes, so that `""` and
/// spaces are visible; lists as their ids.
fn quoted(value: &FieldValue<'_>) -> String {
    // A field value serializes as the field does in the Space's JSON.
    match serde_json::to_value(value).unwrap_or(Value::Null) {
        Value::Array(items) => {
            let ids: Vec<String> = items.iter().map(|item| cell(Some(item.get("id").unwrap_or(item)))).collect();
            format!("[{}]", ids.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use spaces::Provider;
    use spaces_mock::recorded_space;

    use super::{merged_table, number};

    #[test]
    fn groups_thousands() {
        assert_eq!(number(Some(1_324_928)), "1,324,928");
        assert_eq!(number(Some(999)), "999");
        assert_eq!(number(Some(1000)), "1,000");
        assert_eq!(number(None), "—");
    }

    fn merged() -> spaces::Merged {
        let answers = [Provider::X, Provider::SocialData, Provider::Aisa]
            .map(|provider| spaces::decode(provider, recorded_space(provider).as_bytes()).expect("recorded"));
        spaces::merge(answers).expect("three answers")
    }

    #[test]
    fn the_table_names_each_source_within_the_width() {
        let merged = merged();
        let asked = [Provider::X, Provider::SocialData, Provider::Aisa];
        for width in [60, 80, 120] {
            let table = merged_table(&merged, &asked, &asked, width);
            assert!(table.lines().all(|line| line.chars().count() <= width), "{width}:\n{table}");
            assert!(table.lines().any(|line| line.starts_with("  lang ") && line.ends_with(" x")), "{table}");
            assert!(
                table.lines().any(|line| line.starts_with("  media_key ") && line.ends_with(" socialdata")),
                "{table}"
            );
        }
    }
}
