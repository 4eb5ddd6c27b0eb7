//! The workspace's one integration-test binary.

mod regen;
mod spec_examples;
mod support;
