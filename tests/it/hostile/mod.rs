//! A hostile provider: fake servers on 127.0.0.1 that answer wrongly on
//! purpose, and what a user must get anyway. The answer is the Space that
//! was asked for, no secret reaches any output, one bad item fails only
//! what depends on it, and every line printed is one line.
//!
//! - `library`: identity, merge, isolation, time, URLs and messages, against the client.
//! - `cli`: the same through the `spaces` binary, plus pipes and terminal injection.
//! - `secrets`: the token, echoed in every form, reaches no output, log or capture.

mod cli;
mod library;
mod secrets;
