//! The shipped walkthroughs: regenerating each tape gives byte-identical files, each `.cast`
//! played through a terminal emulator ends on the screen its `.txt` shows, and the real
//! `asciinema` plays a recording.

use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use watchband::recording::asciicast::parse_cast;
use watchband::recording::runner::{TapeOptions, run_tape};
use watchband::recording::tape;

const TAPES: &[&str] = &["backup-anomaly", "temperature-stream", "alarm-create"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn options(name: &str) -> TapeOptions {
    TapeOptions {
        seed: 7,
        speed: 3600.0,
        title: format!("watchband: {name}"),
    }
}

fn shipped(name: &str) -> bool {
    root()
        .join("recordings")
        .join(format!("{name}.tape"))
        .exists()
}

/// Runs a tape with every output redirected into `dir` (same relative layout).
fn regenerate(name: &str, dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(root().join(format!("recordings/{name}.tape"))).unwrap();
    let tape = tape::parse(&text).unwrap();
    let report = run_tape(&tape, &options(name), &|p| dir.join(p)).unwrap();
    report.written
}

#[test]
fn regenerated_tapes_are_byte_identical_to_the_shipped_outputs() {
    // Each tape has its own runtime: regenerate them side by side.
    let runs: Vec<_> = TAPES
        .iter()
        .filter(|n| shipped(n))
        .map(|name| {
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let written = regenerate(name, dir.path());
                (name, dir, written)
            })
        })
        .collect();
    let mut checked = 0;
    for run in runs {
        let (name, dir, written) = run.join().expect("a tape run panicked");
        assert!(written.len() >= 2, "{name}: wrote only {written:?}");
        for path in written {
            let relative = path.strip_prefix(dir.path()).unwrap();
            let fresh = std::fs::read(&path).unwrap();
            let committed = std::fs::read(root().join(relative))
                .unwrap_or_else(|e| panic!("{name}: {} is not shipped: {e}", relative.display()));
            assert!(
                fresh == committed,
                "{name}: {} differs from the regenerated file; run `watchband tape recordings/{name}.tape`",
                relative.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "no shipped tape was found");
}

/// Plays a recording through vt100 and returns the final screen, rows trimmed on the right.
fn play(cast: &str) -> String {
    let (header, events) = parse_cast(cast).unwrap();
    let size = |v: &serde_json::Value| NonZeroU16::new(v.as_u64().unwrap() as u16).unwrap();
    let mut parser = vt100::Parser::new(size(&header["height"]), size(&header["width"]), 0);
    for e in events {
        match e.code.as_str() {
            "o" => parser.process(e.data.as_bytes()),
            "r" => {
                let (c, r) = e.data.split_once('x').unwrap();
                parser
                    .screen_mut()
                    .set_size(r.parse().unwrap(), c.parse().unwrap());
            }
            _ => {}
        }
    }
    let (_, cols) = parser.screen().size();
    let mut out = String::new();
    for row in parser.screen().rows(0, cols.get()) {
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn each_shipped_cast_replays_to_its_text_screen() {
    let mut checked = 0;
    for name in TAPES.iter().filter(|n| shipped(n)) {
        let cast = std::fs::read_to_string(root().join(format!("recordings/{name}.cast"))).unwrap();
        let text = std::fs::read_to_string(root().join(format!("recordings/{name}.txt"))).unwrap();
        let screen = play(&cast);
        assert_eq!(
            screen, text,
            "{name}: the replayed screen differs from {name}.txt"
        );
        let (header, _) = parse_cast(&cast).unwrap();
        assert_eq!(header["env"]["TERM"], "xterm-256color");
        checked += 1;
    }
    assert!(checked > 0, "no shipped recording was found");
}

#[test]
fn an_unknown_command_is_refused_with_its_line() {
    let err = tape::parse("Set Width 80\nSleep 1s\nTypo \"x\"\n").unwrap_err();
    assert_eq!(err.line, 3);
}

fn find_asciinema() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("WATCHBAND_TEST_VENV") {
        dirs.push(PathBuf::from(v).join("bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join("asciinema"))
        .find(|p| p.is_file())
}

#[test]
fn asciinema_plays_a_shipped_recording() {
    let Some(asciinema) = find_asciinema() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "asciinema is not installed (CI=true): .ci/test installs it into target/test-venv"
            );
        }
        eprintln!("skipping: asciinema not found (pip install asciinema==2.4.*)");
        return;
    };
    let name = TAPES.iter().find(|n| shipped(n)).expect("no shipped tape");
    let cast = root().join(format!("recordings/{name}.cast"));
    // `cat` replays every event without waiting; `play -i 0.01 -s 1000` goes through the
    // player's timing path too.
    for args in [vec!["cat"], vec!["play", "-i", "0.001", "-s", "1000"]] {
        let out = std::process::Command::new(&asciinema)
            .args(&args)
            .arg(&cast)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("asciinema runs");
        assert!(
            out.status.success(),
            "asciinema {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "asciinema {args:?} wrote nothing");
    }
}

#[test]
fn output_hidden_during_setup_is_repainted_on_show() {
    let tape = tape::parse(
        "Output out.cast\nOutput out.txt\nSet Width 100\nSet Height 30\n\
         Hide\nType \"2\"\nSleep 1500ms\nShow\nSleep 200ms\nType \"4\"\nSleep 500ms\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_tape(&tape, &options("hide-show"), &|p| dir.path().join(p)).unwrap();
    let cast = std::fs::read_to_string(dir.path().join("out.cast")).unwrap();
    let text = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    // Nothing of the hidden part is in the recording, yet playback ends on the real screen.
    let (_, events) = parse_cast(&cast).unwrap();
    // (Only the terminal setup written before `Hide` is there, at 0 s.)
    assert!(
        events
            .iter()
            .filter(|e| e.time < 1.5)
            .all(|e| e.time == 0.0 && !e.data.contains("watchband")),
        "hidden output was recorded"
    );
    assert!(text.contains("Alarms ("), "{text}");
    assert_eq!(play(&cast), text);
}
