//! Timestamp readers for every form the providers send. Each failure names
//! the provider, the field and the value.

use std::fmt::Display;

use chrono::{DateTime, FixedOffset, Utc};

use crate::error::Error;
use crate::model::Provider;

/// An ISO 8601 / RFC 3339 date-time, read leniently: X's reference example
/// has non-padded months and days (`2021-7-14T04:35:55Z`), which chrono's
/// `FromStr` accepts while strict RFC 3339 parsing does not.
pub(crate) fn iso8601(provider: Provider, field: impl Display, raw: &str) -> Result<DateTime<Utc>, Error> {
    // Strict RFC 3339 first: it is what providers send nearly always, and
    // chrono's dedicated parser for it is several times faster than the
    // lenient `FromStr` (measured in `benches/decode.rs`).
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.with_timezone(&Utc));
    }
    raw.trim()
        .parse::<DateTime<FixedOffset>>()
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| Error::decode(provider, field, raw, format!("not an ISO 8601 date-time: {error}")))
}

/// Milliseconds since the Unix epoch. Negative values are rejected: no Space
/// predates 1970, so a negative value is corrupt data, not a date.
pub(crate) fn epoch_millis(
    provider: Provider,
    field: impl Display + Copy,
    millis: i64,
) -> Result<DateTime<Utc>, Error> {
    if millis < 0 {
        return Err(Error::decode(provider, field, millis.to_string(), "negative epoch milliseconds"));
    }
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| Error::decode(provider, field, millis.to_string(), "epoch milliseconds out of range"))
}

/// Epoch milliseconds sent as a string of digits (SocialData's `ended_at`).
pub(crate) fn epoch_millis_text(
    provider: Provider,
    field: impl Display + Copy,
    raw: &str,
) -> Result<DateTime<Utc>, Error> {
    let digits = raw.trim();
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Error::decode(provider, field, raw, "expected epoch milliseconds as a string of digits"));
    }
    let millis =
        digits.parse::<i64>().map_err(|_| Error::decode(provider, field, raw, "epoch milliseconds out of range"))?;
    epoch_millis(provider, field, millis)
}

/// Twitter's classic user date, `Sat Jun 16 00:14:36 +0000 2007`.
pub(crate) fn classic_twitter(provider: Provider, field: impl Display, raw: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_str(raw.trim(), "%a %b %d %H:%M:%S %z %Y").map(|time| time.with_timezone(&Utc)).map_err(
        |error| {
            Error::decode(
                provider,
                field,
                raw,
                format!("not a Twitter date like `Sat Jun 16 00:14:36 +0000 2007`: {error}"),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Provider = Provider::X;

    #[test]
    fn reads_padded_and_non_padded_iso_dates() {
        let padded = iso8601(P, "f", "2021-07-14T04:35:55Z").expect("padded");
        let loose = iso8601(P, "f", "2021-7-14T04:35:55Z").expect("non-padded month");
        assert_eq!(padded, loose);
        assert_eq!(padded.to_rfc3339(), "2021-07-14T04:35:55+00:00");
        let offset = iso8601(P, "f", "2021-07-14T06:35:55.250+02:00").expect("offset");
        assert_eq!(offset.timestamp_millis(), padded.timestamp_millis() + 250);
    }

    #[test]
    fn names_field_and_value_on_bad_dates() {
        let error = iso8601(P, "data.created_at", "yesterday").expect_err("not a date");
        let message = error.to_string();
        assert!(message.starts_with("x: cannot decode `data.created_at` (value `yesterday`)"), "{message}");
        assert!(iso8601(P, "f", "300000-01-01T00:00:00Z").is_err(), "year 300000 is out of range");
    }

    #[test]
    fn reads_epoch_millis_as_number_or_digits() {
        let number = epoch_millis(P, "f", 1_680_293_477_270).expect("number");
        let text = epoch_millis_text(P, "f", "1680293477270").expect("digits");
        assert_eq!(number, text);
        assert_eq!(number.to_rfc3339(), "2023-03-31T20:11:17.270+00:00");
        assert!(epoch_millis(P, "f", -1).is_err());
        assert!(epoch_millis_text(P, "f", "17x0").is_err());
        assert!(epoch_millis_text(P, "f", "").is_err());
        assert!(epoch_millis_text(P, "f", "99999999999999999999").is_err(), "overflows i64");
        assert!(epoch_millis(P, "f", i64::MAX).is_err(), "beyond chrono's range");
    }

    #[test]
    fn reads_classic_twitter_dates() {
        let created = classic_twitter(P, "f", "Sat Jun 16 00:14:36 +0000 2007").expect("classic");
        assert_eq!(created.to_rfc3339(), "2007-06-16T00:14:36+00:00");
        assert!(classic_twitter(P, "f", "2007-06-16").is_err());
    }
}
