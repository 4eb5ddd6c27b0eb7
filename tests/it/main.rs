//! The workspace's one integration-test binary.

mod activity;
mod bad_inputs;
mod batch;
mod cli;
mod cli_record;
mod cli_robustness;
mod client;
mod faults;
mod fixtures;
mod formats;
mod hostile;
mod layers;
mod mock;
mod multi;
mod properties;
mod record;
mod secrets;
mod store;
mod stream;
mod support;
mod table;
mod watch;
