//! API tokens: held in a type that never prints its value.

use std::fmt;

use crate::error::Error;
use crate::model::Provider;

/// An API token (an X bearer token, or a provider's API key).
///
/// `Debug` prints `Token(***)` and there is no `Display`: the value only
/// leaves through [`Token::expose`], which the client calls once, to build the
/// `Authorization` header (marked sensitive, so reqwest hides it too).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string (surrounding whitespace, such as a trailing newline from a file, is trimmed).
    pub fn new(token: impl Into<String>) -> Self {
        let token: String = token.into();
        Token(token.trim().to_owned())
    }

    /// Reads the provider's environment variable (see [`Token::env_var`]).
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] naming the variable when it is unset or empty.
    pub fn from_env(provider: Provider) -> Result<Self, Error> {
        let env_var = Token::env_var(provider);
        match std::env::var(env_var) {
            Ok(value) if !value.trim().is_empty() => Ok(Token::new(value)),
            _ => Err(Error::MissingToken { provider, env_var }),
        }
    }

    /// The environment variable that holds the provider's token:
    /// `X_BEARER_TOKEN`, `SOCIALDATA_API_KEY`, `AISA_API_KEY`, `TWITTERAPI_API_KEY`
    /// ([`ProviderInfo::env_var`](crate::ProviderInfo)).
    pub fn env_var(provider: Provider) -> &'static str {
        provider.info().env_var
    }

    /// The secret itself. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the token in text that came from outside
    /// (a body a hostile or buggy server echoed back) before it goes into an error.
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_owned() } else { text.replace(&self.0, "***") }
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
        assert_eq!(token.redact("echo: Bearer sk-very-secret!"), "echo: Bearer ***!");
    }
}
