//! Signals in a real terminal: tmux runs `watchband --demo` in a pty, the test sends TERM,
//! HUP or INT to its process, and the pty must be back as it was: canonical mode and echo on
//! (read with `stty -a` in the same pty after the exit), the alternate screen left, the cursor
//! shown, and the exit code 128 + the signal.
//!
//! Skips with a message when tmux is missing, unless CI=true (then it fails).

use crate::support::tmux::Tmux;
use std::process::Command;

fn signal_restores_the_terminal(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let bin = env!("CARGO_BIN_EXE_watchband");
    // The inner shell writes its pid and becomes watchband; the outer one reports the exit
    // and the pty's modes as watchband left them.
    let shell = format!(
        "sh -c 'echo $$ > {pid}; exec env TERM=xterm-256color {bin} --demo --seed 7 \
         --log-file {log}'; echo EXITED:$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' \
         | tr '\\n' ' '; echo; sleep 60",
        pid = pidfile.display(),
        log = dir.path().join("log").display(),
    );
    let Some(t) = Tmux::start(&format!("sig-{signal}"), 100, 30, &shell) else {
        return;
    };
    t.wait("the demo's first frame", 60, |s| s.contains("Overview"));
    assert_eq!(
        t.var("alternate_on"),
        "1",
        "the TUI runs on the alternate screen"
    );
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), pid.trim()])
        .status()
        .unwrap();
    assert!(sent.success());
    // The modes line comes after the exit line: wait for both, or the check races the shell.
    let screen = t.wait("the exit and the pty's modes", 20, |s| {
        s.contains("EXITED:") && s.contains("icanon")
    });
    assert!(
        screen.contains(&format!("EXITED:{code}")),
        "exit code 128 + SIG{signal}:\n{screen}"
    );
    let modes = screen
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default();
    assert!(
        modes.contains("icanon") && !modes.contains("-icanon"),
        "canonical mode restored after SIG{signal}: {modes:?}\n{screen}"
    );
    assert!(
        modes.split_whitespace().any(|w| w == "echo"),
        "echo restored after SIG{signal}: {modes:?}"
    );
    assert_eq!(
        t.var("alternate_on"),
        "0",
        "alternate screen left after SIG{signal}"
    );
    assert_eq!(t.var("cursor_flag"), "1", "cursor shown after SIG{signal}");
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal("TERM", 143);
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores_the_terminal("HUP", 129);
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores_the_terminal("INT", 130);
}
