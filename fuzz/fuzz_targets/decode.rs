//! `spaces::decode` on arbitrary bytes as a body of any registered provider:
//! it may fail, never panic. The first input byte picks the provider (modulo
//! the number of providers, in `Provider::ALL` order); the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spaces::{Provider, Space};

fuzz_target!(|input: &[u8]| {
    let Some((&pick, body)) = input.split_first() else { return };
    let provider = Provider::ALL[usize::from(pick) % Provider::ALL.len()];
    if let Ok(space) = spaces::decode(provider, body) {
        // A decoded Space always serializes and reads back.
        let json = serde_json::to_vec(&space).expect("a Space serializes");
        let back: Space = serde_json::from_slice(&json).expect("a Space reads back");
        assert_eq!(back, space);
    }
});
