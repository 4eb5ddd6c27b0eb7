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

    /// Reads the provider's environment variable
    /// ([`ProviderInfo::env_var`](crate::ProviderInfo::env_var)).
    ///
    /// # Errors
    ///
    /// [`Error::MissingToken`] naming the variable when it is unset or empty.
    pub fn from_env(provider: Provider) -> Result<Self, Error> {
        let env_var = provider.info().env_var;
        match std::env::var(env_var) {
            Ok(value) if !value.trim().is_empty() => Ok(Token::new(value)),
            _ => Err(Error::MissingToken { provider, env_var }),
        }
    }

    /// The secret itself. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
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
}
