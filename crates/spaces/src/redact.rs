//! Keeping the token out of everything the crate gives back: the one place
//! that knows what an echo of a token can look like.
//!
//! A hostile or buggy provider may echo the token it was sent: raw, inside
//! a JSON string (`\/` for `/`), percent-encoded in a URL it reflects,
//! base64-encoded in a header it dumps. The client builds one [`Redactor`]
//! from its token and passes every answer, error, log line and capture
//! through it before anything else sees them (see `client::attempt`).

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What an echo is replaced with.
pub(crate) const MASK: &str = "***";

/// The shortest token the client accepts: a shorter one cannot be hidden
/// safely (masking every `ab` in every message would reveal it by its
/// absence), and no provider issues one.
pub(crate) const MIN_TOKEN_CHARS: usize = 8;

/// RFC 3986's unreserved characters stay as they are when percent-encoding.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Every form of one secret, matched in one pass.
#[derive(Clone)]
pub(crate) struct Redactor {
    forms: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

impl Redactor {
    /// A redactor that changes nothing (no token to hide).
    pub fn none() -> Redactor {
        Redactor { forms: Vec::new(), matcher: None }
    }

    /// Every form `secret` can be echoed in: as it is; JSON-escaped (with
    /// and without `\/`); percent-encoded (upper- and lowercase hex) and,
    /// for a token that is itself percent-encoded (X's bearer tokens carry
    /// `%3D`), percent-decoded; and base64 (standard and URL-safe) of the
    /// token and of the `Bearer <token>` header value.
    pub fn new(secret: &str) -> Redactor {
        if secret.is_empty() {
            return Redactor::none();
        }
        let mut forms = vec![secret.to_owned()];
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_owned();
        forms.push(json.replace('/', r"\/"));
        forms.push(json);
        let encoded = utf8_percent_encode(secret, ENCODED).to_string();
        forms.push(lower_hex_escapes(&encoded));
        forms.push(encoded);
        if let Ok(decoded) = percent_decode_str(secret).decode_utf8() {
            forms.push(decoded.into_owned());
        }
        for value in [secret.to_owned(), format!("Bearer {secret}")] {
            for engine in [STANDARD, URL_SAFE] {
                forms.push(stable_base64_prefix(&engine, value.as_bytes()));
            }
        }
        // A form shorter than the token's own minimum (a decoded `%3D%3D`)
        // would mask ordinary text; it is not kept.
        forms.retain(|form| form.chars().count() >= MIN_TOKEN_CHARS.min(secret.chars().count()));
        forms.sort();
        forms.dedup();
        let matcher = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&forms).ok();
        Redactor { forms, matcher }
    }

    /// Whether `bytes` hold any form of the secret.
    pub fn finds(&self, bytes: &[u8]) -> bool {
        self.matcher.as_ref().is_some_and(|matcher| matcher.is_match(bytes))
    }

    /// `text` with every form of the secret replaced by `***`, also where
    /// escapes spell it: a JSON `\u0041` or a percent `%41` for any of its
    /// characters, in any mix of cases.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Only ASCII ranges (escapes and the token's own characters,
            // which are printable ASCII) are replaced, by ASCII: still UTF-8.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// `bytes` (a body that may not be UTF-8) with every form replaced by `***`,
    /// as [`text`](Self::text).
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(matcher) = &self.matcher else { return Cow::Borrowed(bytes) };
        let mut out = Cow::Borrowed(bytes);
        if matcher.is_match(bytes) {
            out = Cow::Owned(matcher.replace_all_bytes(bytes, &self.masks()));
        }
        // An escape can spell any character; only a text that has escapes is
        // looked at again, decoded.
        for escapes in [Escapes::Json, Escapes::Percent] {
            if out.contains(&escapes.lead()) {
                let view = Decoded::of(&out, escapes);
                let ranges: Vec<(usize, usize)> = matcher
                    .find_iter(&view.bytes)
                    .map(|found| (view.origin[found.start()].0, view.origin[found.end() - 1].1))
                    .collect();
                if !ranges.is_empty() {
                    out = Cow::Owned(masked(&out, &ranges));
                }
            }
        }
        out
    }

    /// [`text`](Self::text) of a text that was cut short: a start of a form
    /// left at its end (the rest of the token fell past the cut) is masked
    /// too, so a cut never leaves part of the token behind.
    pub fn cut_text(&self, text: &str) -> String {
        let mut redacted = self.text(text).into_owned();
        let tail = self
            .forms
            .iter()
            .flat_map(|form| (1..form.len()).rev().filter(|&at| form.is_char_boundary(at)).map(move |at| &form[..at]))
            .filter(|start| redacted.ends_with(start))
            .map(str::len)
            .max();
        if let Some(length) = tail {
            redacted.truncate(redacted.len() - length);
            redacted.push_str(MASK);
        }
        redacted
    }

    fn masks(&self) -> Vec<&'static str> {
        vec![MASK; self.forms.len()]
    }
}

/// Which escapes a [`Decoded`] view decodes.
#[derive(Clone, Copy)]
enum Escapes {
    /// JSON string escapes: `\uXXXX`, `\/`, `\\`, `\"`.
    Json,
    /// URL percent-encoding: `%XX`.
    Percent,
}

impl Escapes {
    /// The byte every escape of this kind starts with.
    fn lead(self) -> u8 {
        match self {
            Escapes::Json => b'\\',
            Escapes::Percent => b'%',
        }
    }
}

/// A text with one kind of escape decoded, each decoded byte with the range
/// of the original it came from. Only escapes of ASCII characters are
/// decoded: a token is printable ASCII (`Token::problem`), so no other
/// escape can be part of one.
struct Decoded {
    bytes: Vec<u8>,
    origin: Vec<(usize, usize)>,
}

impl Decoded {
    fn of(text: &[u8], escapes: Escapes) -> Decoded {
        let mut view = Decoded { bytes: Vec::with_capacity(text.len()), origin: Vec::with_capacity(text.len()) };
        let hex =
            |digits: &[u8]| std::str::from_utf8(digits).ok().and_then(|digits| u8::from_str_radix(digits, 16).ok());
        let mut at = 0;
        while at < text.len() {
            let escaped = match (escapes, text[at]) {
                (Escapes::Json, b'\\') => match text.get(at + 1) {
                    Some(b'u') => text
                        .get(at + 2..at + 6)
                        .filter(|digits| digits.starts_with(b"00"))
                        .and_then(|digits| hex(&digits[2..]))
                        .map(|byte| (byte, 6)),
                    Some(&byte @ (b'/' | b'\\' | b'"')) => Some((byte, 2)),
                    _ => None,
                },
                (Escapes::Percent, b'%') => text.get(at + 1..at + 3).and_then(hex).map(|byte| (byte, 3)),
                _ => None,
            };
            let (byte, length) = escaped.filter(|(byte, _)| byte.is_ascii()).unwrap_or((text[at], 1));
            view.bytes.push(byte);
            view.origin.push((at, at + length));
            at += length;
        }
        view
    }
}

/// `text` with each of `ranges` (in order, not overlapping) replaced by `***`.
fn masked(text: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut from = 0;
    for &(start, end) in ranges {
        out.extend_from_slice(&text[from..start]);
        out.extend_from_slice(MASK.as_bytes());
        from = end;
    }
    out.extend_from_slice(&text[from..]);
    out
}

/// `%2F` → `%2f`: some servers reflect percent-encoding in lowercase.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// The base64 characters of `bytes` that do not depend on what follows them
/// in a longer encoded value: every full group of three bytes, and the whole
/// sextets of a last partial group. So the token is found at the start of
/// any base64 blob that encodes it, padded or not.
fn stable_base64_prefix(engine: &impl Engine, bytes: &[u8]) -> String {
    let encoded = engine.encode(bytes);
    let stable = bytes.len() / 3 * 4 + bytes.len() % 3;
    encoded.chars().take(stable).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AAAAtok/en+4242%3Dx";

    #[test]
    fn every_form_of_the_token_is_masked() {
        let redactor = Redactor::new(TOKEN);
        let json_escaped = TOKEN.replace('/', r"\/");
        let percent = utf8_percent_encode(TOKEN, ENCODED).to_string();
        let decoded = "AAAAtok/en+4242=x";
        let basic = STANDARD.encode(format!("Bearer {TOKEN}"));
        let url_safe = URL_SAFE.encode(format!("{TOKEN}trailing"));
        for echo in [TOKEN, &json_escaped, &percent, &lower_hex_escapes(&percent), decoded, &basic, &url_safe] {
            let text = format!("you sent <{echo}>, right?");
            let redacted = redactor.text(&text);
            assert!(redacted.contains(MASK), "{echo}: {redacted}");
            assert!(!redacted.contains("tok/en") && !redacted.contains("4242"), "{echo}: {redacted}");
        }
        assert_eq!(redactor.bytes(format!("\u{ff}{TOKEN}").as_bytes()).as_ref(), "\u{ff}***".as_bytes());
    }

    #[test]
    fn escapes_that_spell_the_token_are_masked_whatever_their_mix() {
        let redactor = Redactor::new(TOKEN);
        let json = r#"{"title":"echo \u0041AA\u0041tok\/en\u002b4242%3Dx!"}"#;
        assert_eq!(redactor.text(json), r#"{"title":"echo ***!"}"#);
        let percent = "q=AAAAtok%2fen%2B4242%253Dx&r=1";
        assert_eq!(redactor.text(percent), "q=***&r=1");
        // Escapes of other characters, and broken ones, are left as they are.
        let other = r#"caf\u00e9 \u12 %zz %"#;
        assert!(matches!(redactor.text(other), Cow::Borrowed(_)));
    }

    #[test]
    fn a_cut_through_the_token_masks_its_start() {
        let redactor = Redactor::new(TOKEN);
        for keep in 1..TOKEN.len() {
            let cut = format!("prefix {}", &TOKEN[..keep]);
            let redacted = redactor.cut_text(&cut);
            assert_eq!(redacted, "prefix ***", "{keep}");
        }
        assert_eq!(redactor.cut_text("nothing to hide"), "nothing to hide");
    }

    #[test]
    fn text_without_the_token_is_borrowed() {
        assert!(matches!(Redactor::new(TOKEN).text("plain"), Cow::Borrowed(_)));
        assert!(matches!(Redactor::none().text(TOKEN), Cow::Borrowed(_)));
    }
}
