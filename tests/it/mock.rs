//! `spaces mock`: started as a process, and every command it prints pasted
//! as printed (environment, program, arguments, and stdin for the bulk one)
//! against it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use spaces::Provider;
use spaces_mock::{DEMO_SPACE_ID, EXAMPLE_MISSING_ID, LIVE_SPACE_ID};

use crate::cli::{run, spaces_bin, text};

/// Kills the mock when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One command line as `spaces mock` prints it: `[printf '…' |] VAR=value… program args…`.
struct Pasted {
    stdin: String,
    env: Vec<(String, String)>,
    program: String,
    args: Vec<String>,
}

impl Pasted {
    fn parse(line: &str) -> Pasted {
        let (stdin, command) = match line.strip_prefix("printf '") {
            Some(rest) => {
                let (input, command) = rest.split_once("' | ").expect("printf '…' | command");
                (input.replace("\\n", "\n"), command)
            }
            None => (String::new(), line),
        };
        let mut words = command.split_whitespace().map(str::to_owned).peekable();
        let mut env = Vec::new();
        while let Some((name, value)) = words.peek().and_then(|word| word.split_once('=')) {
            env.push((name.to_owned(), value.to_owned()));
            words.next();
        }
        let program = words.next().unwrap_or_default();
        Pasted { stdin, env, program, args: words.collect() }
    }

    fn subcommand(&self) -> &str {
        self.args.first().map_or("", String::as_str)
    }

    /// The command, from a clean environment but for what it sets.
    fn command(&self) -> Command {
        self.command_with(&self.args)
    }

    /// The command with other arguments.
    fn command_with(&self, args: &[String]) -> Command {
        let mut command = spaces_bin();
        assert_eq!(
            std::fs::canonicalize(&self.program).ok(),
            std::fs::canonicalize(command.get_program()).ok(),
            "the mock names the binary it runs as (it is not on PATH here)"
        );
        command.args(args).envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }
}

#[test]
fn every_command_spaces_mock_prints_works_against_it_as_printed() {
    let mut mock = spaces_bin();
    mock.args(["mock", "--port", "0"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut mock = Running(mock.spawn().expect("spawn spaces mock"));
    let stdout = BufReader::new(mock.0.stdout.take().expect("stdout"));
    let mut printed = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("a line");
        let last = line.contains(" watch ") && !line.trim_start().starts_with('#');
        printed.push(line);
        if last {
            break;
        }
    }
    let listing = printed.join("\n");
    for provider in Provider::ALL {
        assert!(listing.contains(&format!("{}=demo-token", provider.info().env_var)), "{listing}");
        assert!(listing.contains(&format!("--base-url {provider}=http://127.0.0.1:")), "{listing}");
    }
    let commands: Vec<Pasted> = printed
        .iter()
        .map(|line| Pasted::parse(line.trim_start()))
        // A command sets its token first; no other line starts with `NAME=value`.
        .filter(|pasted| !pasted.env.is_empty())
        .collect();
    let count = |subcommand: &str| commands.iter().filter(|command| command.subcommand() == subcommand).count();
    // One show per provider, the bulk show and the merge.
    assert_eq!(count("show"), Provider::ALL.len() + 2, "{listing}");
    for subcommand in ["search", "by-creator", "compare", "watch"] {
        assert_eq!(count(subcommand), 1, "{subcommand}\n{listing}");
    }

    for pasted in &commands {
        let mut command = pasted.command();
        if pasted.subcommand() == "watch" {
            // The printed `--for 40s` plays the whole script; the first poll is enough here.
            let at = pasted.args.iter().position(|arg| arg == "--for").expect("--for");
            let mut args = pasted.args.clone();
            args[at + 1] = "4s".to_owned();
            command = pasted.command_with(&args);
        }
        let output = run(command, pasted.stdin.as_bytes());
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        let shown = format!("{} {}\n{stdout}\n{stderr}", pasted.program, pasted.args.join(" "));
        match pasted.subcommand() {
            "show" if !pasted.stdin.is_empty() => {
                // Three ids in one request: two found, the made-up one not.
                assert_eq!(output.status.code(), Some(1), "{shown}");
                let ids: Vec<String> = stdout
                    .lines()
                    .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("NDJSON"))
                    .map(|space| space["id"].as_str().unwrap_or_default().to_owned())
                    .collect();
                assert_eq!(ids, [DEMO_SPACE_ID, LIVE_SPACE_ID], "{shown}");
                assert!(
                    stderr.contains(&format!("{EXAMPLE_MISSING_ID}: x: Space {EXAMPLE_MISSING_ID} not found")),
                    "{shown}"
                );
            }
            "show" => {
                assert!(output.status.success(), "{shown}");
                let space: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
                assert_eq!(space["id"], LIVE_SPACE_ID, "{shown}");
                assert_eq!(space["title"], "Late night synth jam", "{shown}");
                if pasted.args.contains(&"--merge".to_owned()) {
                    // X has no listener total; the others do: a merge fills it and says from where.
                    assert_eq!(space["total_live_listeners"], 118, "{shown}");
                    assert_eq!(space["sources"]["total_live_listeners"], "socialdata", "{shown}");
                }
            }
            "search" => {
                assert!(output.status.success(), "{shown}");
                assert!(stdout.contains("Late night synth jam"), "{shown}");
            }
            "by-creator" => {
                assert!(output.status.success(), "{shown}");
                assert!(stdout.contains("@oss_hour") && stdout.contains("@tomasruiz"), "{shown}");
            }
            "compare" => {
                assert!(output.status.success(), "{shown}");
                let row = stdout.lines().find(|line| line.starts_with("  participant_count ")).expect("a row");
                assert_eq!(row.split_whitespace().collect::<Vec<_>>(), ["participant_count", "64", "—", "66", "67"]);
            }
            "watch" => {
                assert!(output.status.success(), "{shown}");
                let scheduled = stdout.lines().filter(|line| line.contains(r#""type":"scheduled""#)).count();
                assert_eq!(scheduled, 3, "the script's first sightings:\n{shown}");
                let store = pasted.args.iter().skip_while(|arg| *arg != "--store").nth(1).expect("--store");
                for file in spaces::watch::Store::files(store) {
                    let _ = std::fs::remove_file(file);
                }
            }
            other => panic!("an unexpected command {other}: {shown}"),
        }
    }

    // Ctrl-C (or a kill) is how it is meant to stop: exit 0.
    let stopped = Command::new("kill").args(["-INT", &mock.0.id().to_string()]).status().expect("kill");
    assert!(stopped.success());
    let status = mock.0.wait().expect("the mock stops");
    assert_eq!(status.code(), Some(0));
}
