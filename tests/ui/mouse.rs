//! `--mouse` in a real terminal: tmux runs `watchband --demo`, the test writes SGR mouse
//! reports (`ESC [ < button ; x ; y M`, the wheel as buttons 64/65) into the pane's input as a
//! terminal would, and reads the screen; `pipe-pane` records every byte the program writes, so
//! the mouse modes it asks for (`?1000h` clicks, `?1006h` SGR reports) are checked as sent.
//! Without `--mouse` none of them is sent and tmux sees no mouse mode in the pane.
//!
//! Skips with a message when tmux is missing, unless CI=true (then it fails).

use crate::support::tmux::Tmux;

/// Starts the demo with `args` in a pane whose output is recorded to `bytes`; the shell waits
/// a second first, so `pipe-pane` is attached before the program's first byte.
fn start(name: &str, args: &str, dir: &std::path::Path) -> Option<(Tmux, std::path::PathBuf)> {
    let bin = env!("CARGO_BIN_EXE_watchband");
    let bytes = dir.join("bytes");
    let shell = format!(
        "sleep 1; XDG_DATA_HOME={data} TERM=xterm-256color {bin} --demo --seed 7 {args} \
         --log-file {log}; sleep 60",
        data = dir.display(),
        log = dir.join("log").display(),
    );
    let t = Tmux::start(name, 120, 40, &shell)?;
    t.cmd(&[
        "pipe-pane",
        "-o",
        "-t",
        &t.session,
        &format!("cat >> {}", bytes.display()),
    ]);
    t.wait("the demo's first frame", 60, |s| {
        s.contains("Overview") && s.contains("Problems")
    });
    Some((t, bytes))
}

/// A mouse report as an xterm sends it in SGR mode: `button` at the 0-based cell.
fn report(button: u8, column: usize, row: usize, press: bool) -> String {
    format!(
        "\x1b[<{button};{};{}{}",
        column + 1,
        row + 1,
        if press { 'M' } else { 'm' }
    )
}

#[test]
fn mouse_clicks_tabs_and_the_wheel_scrolls_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some((t, bytes)) = start("mouse-on", "--mouse", dir.path()) else {
        return;
    };
    let written = std::fs::read(&bytes).unwrap();
    let has = |seq: &str| written.windows(seq.len()).any(|w| w == seq.as_bytes());
    assert!(has("\x1b[?1000h"), "mouse clicks asked for");
    assert!(has("\x1b[?1006h"), "SGR mouse reports asked for");
    assert_eq!(t.var("mouse_sgr_flag"), "1", "tmux sees SGR mouse mode");
    // Every volume listed, then frozen and sorted by name, so the rows cannot move under the
    // test while their histories load.
    t.wait("the volumes", 60, |s| {
        s.contains(" volumes · ") && !s.contains("0 volumes · ")
    });
    t.keys(&["p"]);
    t.wait("the demo paused", 10, |s| s.contains("paused"));

    // A click (press and release) on the Backups tab switches to it.
    let screen = t.screen();
    let tabs = screen.lines().next().unwrap();
    let col = tabs.find("2 Backups").expect("the tab bar") + 2;
    t.text(&(report(0, col, 0, true) + &report(0, col, 0, false)));
    t.wait("the Backups view after a click", 20, |s| {
        s.contains("Protected volumes")
    });
    t.keys(&["o"]);
    let backups = t.wait("the volumes by name", 20, |s| s.contains("· by name"));
    // The volume rows, in the order shown.
    let names: Vec<String> = backups
        .lines()
        .filter(|l| l.contains(" vol-"))
        .filter_map(|l| l.trim_start_matches('│').split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 3, "{backups}");

    // Two wheel notches down move the selection two rows; Enter opens that volume.
    for _ in 0..2 {
        t.text(&report(65, 30, 8, true));
    }
    t.keys(&["Enter"]);
    let detail = t.wait("the volume detail", 20, |s| s.contains("changed blocks —"));
    let title_of = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("changed blocks —"))
            .map(|l| l.trim_start_matches('┌').trim_start().to_string())
            .unwrap_or_default()
    };
    let title = title_of(&detail);
    assert!(
        title.starts_with(&names[2]),
        "the third row ({}) after two wheel notches: {title}",
        names[2]
    );
    // A notch up comes back one row.
    t.keys(&["Escape"]);
    t.wait("the list again", 20, |s| !s.contains("changed blocks —"));
    t.text(&report(64, 30, 8, true));
    t.keys(&["Enter"]);
    let detail = t.wait("the volume detail again", 20, |s| {
        s.contains("changed blocks —")
    });
    let title = title_of(&detail);
    assert!(
        title.starts_with(&names[1]),
        "the second row ({}) after a notch up: {title}",
        names[1]
    );
}

#[test]
fn without_mouse_no_mouse_mode_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let Some((t, bytes)) = start("mouse-off", "", dir.path()) else {
        return;
    };
    let written = std::fs::read(&bytes).unwrap();
    assert!(
        written.windows(8).any(|w| w == b"\x1b[?1049h"),
        "the recording holds the program's start (alternate screen)"
    );
    for mode in ["1000", "1002", "1003", "1006", "1015"] {
        let seq = format!("\x1b[?{mode}h");
        assert!(
            !written.windows(seq.len()).any(|w| w == seq.as_bytes()),
            "mouse mode ?{mode} enabled without --mouse"
        );
    }
    assert_eq!(t.var("mouse_any_flag"), "0");
    assert_eq!(t.var("mouse_sgr_flag"), "0");
    assert_eq!(t.var("mouse_standard_flag"), "0");
}
