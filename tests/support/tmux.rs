//! A tmux server of its own per test: a real pty in which the binary runs, keys typed with
//! `send-keys`, the screen read with `capture-pane`. A missing tmux skips with a message,
//! except under `CI=true`, where it is a failure (`.ci/run` installs tmux).

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    pub session: String,
}

impl Tmux {
    /// Starts `shell` (run by `sh -c`) in a detached session of `width` × `height`, or
    /// returns `None` when tmux is not installed.
    pub fn start(name: &str, width: u16, height: u16, shell: &str) -> Option<Tmux> {
        if !available() {
            return None;
        }
        let t = Tmux {
            socket: format!("watchband-{name}-{}", std::process::id()),
            session: name.into(),
        };
        t.cmd(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "sh",
            "-c",
            shell,
        ]);
        Some(t)
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", &self.session, k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Types `text` literally.
    pub fn text(&self, text: &str) {
        self.cmd(&["send-keys", "-t", &self.session, "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", &self.session])
    }

    /// A pane variable (`#{alternate_on}`, `#{cursor_flag}`).
    pub fn var(&self, name: &str) -> String {
        self.cmd(&[
            "display",
            "-p",
            "-t",
            &self.session,
            &format!("#{{{name}}}"),
        ])
        .trim()
        .to_string()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `secs`.
    pub fn wait(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tmux is required when CI=true (.ci/run installs it)");
        }
        eprintln!("skipping: tmux is not installed");
    }
    ok
}
