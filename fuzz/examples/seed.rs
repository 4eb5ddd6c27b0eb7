//! Writes the seed corpus of the `decode` target: every fixture
//! (`tests/fixtures/<provider>/*.json`) and every response example of every
//! provider's spec, each behind the byte that makes the target read it as
//! that provider's body (its index in `Provider::ALL`).
//!
//! `cargo run --example seed [DIR]`; DIR defaults to `corpus/decode` beside
//! this crate's manifest. Existing files of the same name are overwritten.

use std::path::{Path, PathBuf};

use spaces::Provider;

fn main() -> std::io::Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::args_os().nth(1).map_or_else(|| manifest.join("corpus/decode"), PathBuf::from);
    std::fs::create_dir_all(&corpus)?;
    let mut written = 0;
    for (index, &provider) in Provider::ALL.iter().enumerate() {
        let pick = u8::try_from(index).expect("fewer than 256 providers");
        let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
        let fixtures = manifest.join("../tests/fixtures").join(provider.as_str());
        if let Ok(entries) = std::fs::read_dir(&fixtures) {
            for entry in entries {
                let path = entry?.path();
                let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
                seeds.push((format!("fixture-{name}"), std::fs::read(&path)?));
            }
        }
        for example in provider.info().lookup.examples {
            seeds.push((format!("example-{}", example.name), example.body.as_bytes().to_vec()));
        }
        for (name, body) in seeds {
            let mut input = vec![pick];
            input.extend_from_slice(&body);
            std::fs::write(corpus.join(format!("{provider}-{name}")), input)?;
            written += 1;
        }
    }
    println!("{written} seeds in {}", corpus.display());
    Ok(())
}
