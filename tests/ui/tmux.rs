//! End to end in a real terminal: tmux runs `watchband --demo`, keys are typed with
//! `send-keys` and the screen is read with `capture-pane`. It starts the demo, switches views,
//! runs an on-demand backup to completion, creates an alarm, acknowledges one and quits, and
//! checks that the terminal was restored (alternate screen left, cursor shown).
//!
//! Skips with a message when tmux is missing, unless CI=true (then it fails).

use crate::support::tmux::Tmux;
use std::time::Duration;

#[test]
fn demo_walkthrough_in_a_real_terminal() {
    let bin = env!("CARGO_BIN_EXE_watchband");
    // Its own data directory: the demo keeps its acknowledgements there across restarts.
    let data = tempfile::tempdir().unwrap();
    let shell = format!(
        "XDG_DATA_HOME={} TERM=xterm-256color {bin} --demo --seed 7; echo EXITED:$?; sleep 120",
        data.path().display()
    );
    let Some(t) = Tmux::start("e2e", 120, 40, &shell) else {
        return;
    };

    // The demo starts on the overview and fills in.
    t.wait("the overview with volumes", 60, |s| {
        s.contains("Overview")
            && s.contains("Problems")
            && s.contains(" volumes · ")
            && !s.contains("0 volumes · ")
    });

    // Switch views with digits and Tab.
    t.keys(&["2"]);
    let backups = t.wait("the Backups view", 20, |s| {
        s.contains("Protected volumes") && s.contains("vol-")
    });
    t.keys(&["Tab"]);
    t.wait("the Streams view", 20, |s| {
        s.contains("Shards") && s.contains("Devices")
    });
    t.keys(&["4"]);
    t.wait("the Alarms view", 20, |s| {
        s.contains("Alarms (") && s.contains("Reason")
    });
    t.keys(&["?"]);
    t.wait("the help", 10, |s| {
        s.contains("Help") && s.contains("acknowledge")
    });
    t.keys(&["Escape"]);

    // An on-demand backup of the first volume, to completion.
    t.keys(&["2", "g", "b"]);
    t.wait("the backup confirmation", 20, |s| {
        s.contains("Back up now") && s.contains("vault") && s.contains("role")
    });
    t.keys(&["y"]);
    t.wait("the backup to complete", 120, |s| s.contains("COMPLETED"));

    // Create an anomaly alarm on the selected volume.
    t.keys(&["a"]);
    t.wait("the alarm form", 20, |s| {
        s.contains("Create anomaly alarm") && s.contains("band width")
    });
    t.keys(&["Enter"]);
    // The volume may have its alarm already: then the first Enter only warns.
    let after = t.wait("the form to submit or warn", 20, |s| {
        !s.contains("Create anomaly alarm") || s.contains("Enter again to overwrite")
    });
    if after.contains("Enter again to overwrite") {
        t.keys(&["Enter"]);
    }
    t.keys(&["1", "/"]);
    t.text("create alarm");
    t.keys(&["Enter"]);
    t.wait("the alarm to be created", 60, |s| {
        s.contains("done: create alarm: alarm ")
    });
    t.keys(&["Escape"]);

    // Acknowledge an alarm in ALARM: find a volume whose alarm is in ALARM on Backups. At an
    // hour per second an ALARM episode lasts seconds, so pause the demo account's clock first
    // (a demo-only key).
    t.keys(&["2"]);
    let has_alarm = |s: &str| {
        s.lines()
            .any(|l| l.contains(" ALARM") && l.contains("vol-"))
    };
    let mut in_alarm = String::new();
    for _ in 0..10 {
        t.wait("a volume in ALARM", 120, has_alarm);
        t.keys(&["p"]);
        t.wait("the demo to pause", 20, |s| s.contains("PAUSED"));
        // let the pipeline's last polls land
        std::thread::sleep(Duration::from_secs(4));
        let s = t.screen();
        if has_alarm(&s) {
            in_alarm = s;
            break;
        }
        t.keys(&["p"]);
    }
    assert!(
        !in_alarm.is_empty(),
        "no alarm stayed in ALARM while paused"
    );
    let name = in_alarm
        .lines()
        .find(|l| l.contains(" ALARM") && l.contains("vol-"))
        .and_then(|l| l.trim_start_matches('│').split_whitespace().next())
        .expect("a volume name")
        .to_string();
    let _ = backups;
    t.keys(&["4", "/"]);
    t.text(&name);
    t.keys(&["Enter", "x"]);
    t.wait("the acknowledge dialog", 20, |s| {
        s.contains("Acknowledge this ALARM episode")
    });
    t.text("e2e looked at it");
    t.keys(&["Enter"]);
    t.wait("the acknowledgement", 60, |s| s.contains("✓ "));

    // Quit: the program ends and the terminal is as it was.
    t.keys(&["Escape", "q"]);
    let after = t.wait("the program to exit", 20, |s| s.contains("EXITED:0"));
    assert!(!after.contains("Problems"), "the TUI is gone:\n{after}");
    assert_eq!(t.var("alternate_on").trim(), "0", "alternate screen left");
    assert_eq!(t.var("cursor_flag").trim(), "1", "cursor shown again");
}

/// No credentials anywhere (an empty home, no AWS variables, no instance metadata): the TUI
/// shows the no-account screen in a real terminal instead of a demo started by surprise, and
/// its `d` starts the demo.
#[test]
fn without_credentials_the_no_account_screen_offers_the_demo() {
    let bin = env!("CARGO_BIN_EXE_watchband");
    let home = tempfile::tempdir().unwrap();
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={home} XDG_DATA_HOME={home}/data \
         XDG_CONFIG_HOME={home}/config TERM=xterm-256color AWS_EC2_METADATA_DISABLED=true \
         AWS_REGION=us-east-1 {bin}; echo EXITED:$?; sleep 60",
        home = home.path().display(),
    );
    let Some(t) = Tmux::start("noaccount", 100, 30, &shell) else {
        return;
    };
    let screen = t.wait("the no-account screen", 60, |s| {
        s.contains("no AWS account")
    });
    assert!(screen.contains("run the demo"), "{screen}");
    assert!(
        !screen.contains("Overview"),
        "no demo started by surprise:\n{screen}"
    );
    t.keys(&["d"]);
    t.wait("the demo", 60, |s| {
        s.contains("Overview") && s.contains(" demo ") && s.contains(" volumes · ")
    });
    t.keys(&["q"]);
    let screen = t.wait("the exit", 20, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
}
