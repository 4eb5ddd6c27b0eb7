//! The workspace's one integration-test binary.

mod cli;
mod client;
mod fixtures;
mod regen;
mod secrets;
mod spec_examples;
mod support;
