//! API tokens: held in a type that never prints its value.

use std::fmt;

use crate::error::Error;
use crate::model::Provider;
use crate::redact::MIN_TOKEN_CHARS;

/// An API token (an X bearer token, or a provider's API key).
///
/// `Debug` prints `Token(***)` and there is no `Display`: the value only
/// leaves through [`Token::expose`], which the client calls once, to build the
/// `Authorization` header (marked sensitive, so reqwest hides it too).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The shortest token the client accepts: a shorter one cannot be kept
    /// out of messages safely, and no provider issues one.
    pub const MIN_CHARS: usize = MIN_TOKEN_CHARS;

    /// Wraps a token string as people paste it: a byte-order mark,
    /// surrounding whitespace (a file's trailing newline) and a leading
    /// `Bearer ` (copied with the header) are stripped.
    ///
    /// ```
    /// let token = spaces::Token::new("\u{feff}Bearer AAAA%3Dtoken\n");
    /// assert_eq!(token.expose(), "AAAA%3Dtoken");
    /// ```
    pub fn new(token: impl Into<String>) -> Self {
        let token: String = token.into();
        let token = token.trim_start_matches('\u{feff}').trim();
        let token = match token.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
            _ => token,
        };
        Token(token.to_owned())
    }

    /// Reads the provider's environment variable
    /// ([`ProviderInfo::env_var`](crate::spec::ProviderInfo::env_var)).
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] naming the variable when it is unset or empty.
    pub fn from_env(provider: Provider) -> Result<Self, Error> {
        let env_var = provider.info().env_var;
        match std::env::var(env_var) {
            Ok(value) if !Token::new(value.as_str()).0.is_empty() => Ok(Token::new(value)),
            _ => Err(Error::MissingToken { provider, env_var }),
        }
    }

    /// The secret itself. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Why the token cannot be used, if it cannot: shorter than
    /// [`MIN_CHARS`](Self::MIN_CHARS) (too short to be masked
    /// safely wherever a provider echoes it), or holding characters an HTTP
    /// header cannot carry. The client refuses such a token when it is built.
    pub fn problem(&self) -> Option<&'static str> {
        if self.0.chars().count() < MIN_TOKEN_CHARS {
            Some("shorter than 8 characters, too short to keep out of messages safely")
        } else if !self.0.bytes().all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte)) {
            Some("it holds characters an HTTP header cannot carry (only printable ASCII)")
        } else {
            None
        }
    }

    /// [`problem`](Self::problem) as an error naming the provider's variable.
    pub(crate) fn check(&self, provider: Provider) -> Result<(), Error> {
        match self.problem() {
            Some(reason) => Err(Error::InvalidToken { provider, env_var: provider.info().env_var, reason }),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn debug_never_shows_the_value() {
        let token = Token::new("sk-very-secret\n");
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(token.expose(), "sk-very-secret");
    }

    #[test]
    fn what_people_paste_is_cleaned_and_what_cannot_work_is_named() {
        assert_eq!(Token::new("\u{feff}  bearer   abcdefgh12 \r\n").expose(), "abcdefgh12");
        assert_eq!(Token::new("BEARER abcdefgh12").expose(), "abcdefgh12");
        assert_eq!(Token::new("Bearerabcdefgh12").expose(), "Bearerabcdefgh12", "only the scheme and its space");
        assert!(Token::new("short").problem().is_some_and(|reason| reason.contains("shorter than 8")));
        assert!(Token::new("abcdefgh\u{e9}12").problem().is_some_and(|reason| reason.contains("header")));
        assert!(Token::new("abc\u{7}defgh12").problem().is_some_and(|reason| reason.contains("header")));
        assert_eq!(Token::new("AAAA%3Dabcdefgh").problem(), None);
    }
}
