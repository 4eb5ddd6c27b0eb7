//! `spaces::decode` on arbitrary bytes as a socialdata body: it may fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(space) = spaces::decode(spaces::Provider::SocialData, body) {
        // A decoded Space always serializes and reads back.
        let json = serde_json::to_vec(&space).expect("a Space serializes");
        let back: spaces::Space = serde_json::from_slice(&json).expect("a Space reads back");
        assert_eq!(back, space);
    }
});
