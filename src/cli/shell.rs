//! `watchband completions SHELL` and `watchband man`: a shell's completion script and the
//! manual page, both generated from the same clap definition as the parser, so they cannot
//! drift from the flags the binary accepts. Written to stdout for a packager or a user to put
//! where their shell or `man` looks.

use super::Cli;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (watchband.1, watchband-scan.1, ...) into this directory
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Writes the completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    // clap_complete panics when its writer fails (a closed pipe: `| head`), so it writes to
    // memory and the error of the real write is returned like any other.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the main manual page (roff), which lists every command.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

pub fn run_completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    completions(args.shell, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), dir)
                .map_err(|e| anyhow::anyhow!("cannot write the pages to {}: {e}", dir.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            man(&mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use std::process::{Command, Stdio};

    /// Every command's name, nested ones included (`process stream`).
    fn command_names() -> Vec<String> {
        fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                out.push(sub.get_name().to_string());
                walk(sub, out);
            }
        }
        let mut names = Vec::new();
        walk(&Cli::command(), &mut names);
        names
    }

    fn generated(shell: Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_commands_include_completions_and_man() {
        let names = command_names();
        for name in ["detect", "scan", "generate", "tape", "process", "stream"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(names.iter().any(|n| n == "completions") && names.iter().any(|n| n == "man"));
    }

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in Shell::value_variants() {
            let script = generated(*shell);
            for name in command_names() {
                assert!(script.contains(&name), "{shell}: no {name}");
            }
        }
    }

    #[test]
    fn the_bash_script_parses_and_registers_watchband() {
        // bash itself reads the script, defines the function and registers it for `watchband`.
        let out = Command::new("bash")
            .args(["--norc", "-c", "source /dev/stdin && complete -p watchband"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(generated(Shell::Bash).as_bytes())?;
                child.wait_with_output()
            })
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.is_empty(), "{stderr}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("watchband"),
            "{out:?}"
        );
    }

    #[test]
    fn the_man_page_formats_without_warnings_and_names_every_command() {
        let mut page = Vec::new();
        man(&mut page).unwrap();
        let roff = String::from_utf8(page.clone()).unwrap();
        assert!(roff.contains(".TH watchband 1"), "{roff}");
        // The main page lists the top-level commands; nested ones have their own pages.
        let top: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for name in &top {
            assert!(roff.contains(name.as_str()), "no {name} in\n{roff}");
        }
        // groff is the formatter `man` uses; with CI=true it must be there (.ci/run installs it).
        let groff = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match groff {
            Ok(child) => child,
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!("skipping the formatting check: groff cannot run ({e})");
                return;
            }
            Err(e) => panic!("groff is required when CI=true: {e}"),
        };
        child.stdin.take().unwrap().write_all(&page).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
        let text = String::from_utf8_lossy(&out.stdout);
        for name in &top {
            assert!(text.contains(name.as_str()), "no {name} in\n{text}");
        }
    }

    #[test]
    fn man_dir_writes_a_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        run_man(&ManArgs {
            dir: Some(dir.path().to_path_buf()),
        })
        .unwrap();
        for page in [
            "watchband.1",
            "watchband-scan.1",
            "watchband-process-stream.1",
        ] {
            let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
            assert!(text.contains(".TH"), "{page}");
        }
    }
}
