//! What `--help` says beyond each option: the one-line summary of the
//! tool, built from its commands, and each command's examples.

/// Each command's examples, shown after its options in `-h` and `--help`.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "show",
        "spaces show 1jMJgLdenVjxL
  spaces show https://x.com/i/spaces/1jMJgLdenVjxL --format table
  spaces show 1jMJgLdenVjxL --provider socialdata
  spaces show 1jMJgLdenVjxL --merge --format table
  spaces show --ids-file ids.txt > spaces.ndjson
  spaces show --ids-file ids.txt --format csv --fields id,state,title,participant_count > spaces.csv",
    ),
    (
        "search",
        "spaces search bitcoin
  spaces search \"open source\" --state live --format table
  spaces search radio --format csv --fields id,state,title,creator.username",
    ),
    (
        "by-creator",
        "spaces by-creator 2244994945 --format table
  spaces by-creator --user-ids-file creators.txt --format json > spaces.json",
    ),
    (
        "compare",
        "spaces compare 1jMJgLdenVjxL
  spaces compare 1jMJgLdenVjxL --providers x,socialdata --all
  spaces compare 1jMJgLdenVjxL --format csv --fields provider,state,title,participant_count",
    ),
    (
        "watch",
        "spaces watch 2244994945 783214
  spaces watch --user-ids-file creators.txt --store spaces.db --for 8h",
    ),
    ("events", "spaces events\n  spaces events --follow --store spaces.db"),
    (
        "export",
        "spaces export --table spaces --format csv --output spaces.csv
  spaces export --table events --format ndjson | jq .type",
    ),
    ("forget-gone", "spaces forget-gone"),
    ("demo", "spaces demo\n  cargo run -p spaces-cli --features mock -- demo   (without installing)"),
    (
        "mock",
        "spaces mock
  spaces mock --port 8080   (then paste one of the commands it prints into another terminal)",
    ),
    ("man", "cargo xtask man target/man   (which runs `spaces man target/man`)"),
    (
        "convert",
        "spaces convert --provider x response.json
  spaces convert --provider x --ndjson bodies.ndjson
  jq -r .body captures/FILE.capture.json | spaces convert --provider x   (a response kept by --record)",
    ),
    (
        "completions",
        "spaces completions bash > ~/.local/share/bash-completion/completions/spaces
  spaces completions zsh > \"${fpath[1]}/_spaces\"",
    ),
];

/// `command` with its one-line summary naming every visible command, and
/// each command's examples after its help.
pub fn with_examples(command: clap::Command) -> clap::Command {
    let names: Vec<String> =
        command.get_subcommands().filter(|sub| !sub.is_hide_set()).map(|sub| sub.get_name().to_owned()).collect();
    let about = format!("X/Twitter Spaces from any provider, as one normalized model: {}.", names.join(", "));
    let mut command = command.about(about);
    for (name, examples) in EXAMPLES {
        command = command.mut_subcommand(*name, |sub| sub.after_help(format!("Examples:\n  {examples}")));
    }
    command
}
