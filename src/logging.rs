//! The log: `tracing` events (watchband's and the AWS SDK's own: credentials, retries,
//! connections, proxies) written to a file, never to the terminal, so the TUI's screen stays
//! whole and a headless command's stderr keeps its one-line errors.
//!
//! - Where: `--log-file PATH`, else `watchband.log` in the state directory
//!   (`~/.local/state/watchband/` on Linux).
//! - How much: `WATCHBAND_LOG` (else `RUST_LOG`) in the `target=level,...` form, e.g.
//!   `debug` or `warn,watchband=debug,aws_smithy_runtime=trace`; default `info`.
//! - How big: at most [`MAX_BYTES`] per file; the full file is moved to `watchband.log.1`
//!   (replacing the previous one), so the log never takes more than twice that.
//! - What never: secrets. Every line passes [`redact`], which removes signing headers,
//!   session tokens and secret keys in the forms the SDK and HTTP layers can print, and any
//!   control character (a string from AWS cannot move the cursor of whoever reads the log).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

/// A long-running command's stderr during an outage: each failing message is printed once,
/// its repeats are counted, and the counts are printed when a new message comes or the
/// command ends (a 20 s outage is a few lines, not 30 KB). Messages are remembered as a set,
/// not only the last one: two shards failing in turn print one line each, then counts. A
/// health report's " (retrying)" suffix does not make a message new. The log keeps every
/// occurrence.
#[derive(Debug, Default)]
pub struct Repeats {
    /// The messages printed, oldest first, each with its repeats not yet reported.
    seen: Vec<(String, u64)>,
}

/// `text` (one or more lines from [`Repeats`]) with each line marked as watchband's, as a
/// headless command prints its messages on stderr.
pub fn prefixed(text: &str) -> String {
    text.lines()
        .map(|l| format!("watchband: {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many distinct messages are remembered; past that, the counts are reported and the
/// memory starts again (so an endless variety of messages cannot grow it).
const REMEMBERED: usize = 64;

impl Repeats {
    /// What to print for `message` now: the message the first time, nothing while it
    /// repeats, and the pending counts followed by the new message when another one comes.
    pub fn line(&mut self, message: &str) -> Option<String> {
        tracing::warn!("{message}");
        let key = message.strip_suffix(" (retrying)").unwrap_or(message);
        if let Some((_, n)) = self.seen.iter_mut().find(|(m, _)| m == key) {
            *n += 1;
            return None;
        }
        let mut out = self.counts().map(|c| c + "\n").unwrap_or_default();
        if self.seen.len() >= REMEMBERED {
            self.seen.clear();
        }
        out.push_str(message);
        self.seen.push((key.to_string(), 0));
        Some(out)
    }

    /// The pending counts of repeats, if any (at the end of the command).
    pub fn finish(&mut self) -> Option<String> {
        let out = self.counts();
        self.seen.clear();
        out
    }

    /// One line per message repeated since it (or its last count) was printed; the counts
    /// are reset.
    fn counts(&mut self) -> Option<String> {
        let last = self.seen.len().checked_sub(1);
        let lines: Vec<String> = self
            .seen
            .iter_mut()
            .enumerate()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(i, (message, n))| {
                let times = format!("{n} more {}", crate::words::agree(*n, "time", "times"));
                let line = if Some(i) == last {
                    format!("(the message above repeated {times})")
                } else {
                    let short: String = message.chars().take(100).collect();
                    let cut = if short.len() < message.len() {
                        "…"
                    } else {
                        ""
                    };
                    format!("(repeated {times}: {short}{cut})")
                };
                *n = 0;
                line
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// The size at which the log file is rotated.
pub const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// The default log file: `watchband.log` in the user's state directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("watchband").join("watchband.log"))
}

/// The filter from `WATCHBAND_LOG`, else `RUST_LOG`, else `info`.
fn filter() -> Result<tracing_subscriber::filter::Targets, String> {
    let (var, spec) = ["WATCHBAND_LOG", "RUST_LOG"]
        .iter()
        .find_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (*k, v))
        })
        .unwrap_or(("default", "info".to_string()));
    tracing_subscriber::filter::Targets::from_str(spec.trim()).map_err(|e| {
        format!(
            "{var}={spec}: not a log filter ({e}); expected e.g. `debug` or `warn,watchband=debug`"
        )
    })
}

/// Starts logging to `path` (or the default file). Returns the file written to, or `None`
/// when there is nowhere to write (no state directory); a file that cannot be opened or a bad
/// filter is an error, so a `--log-file` typo is not silently ignored.
pub fn init(path: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    use tracing_subscriber::layer::SubscriberExt;
    let Some(path) = path.map(Path::to_path_buf).or_else(default_path) else {
        return Ok(None);
    };
    let filter = filter().map_err(anyhow::Error::msg)?;
    let file = RotatingFile::open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", path.display()))?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(Mutex::new(file))
        .with_target(true);
    let subscriber = tracing_subscriber::registry().with(layer).with(filter);
    // A second init (tests that run several commands in one process) keeps the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "watchband started");
    Ok(Some(path))
}

/// A log file that is rotated when it reaches [`MAX_BYTES`], and redacts every line.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
}

impl RotatingFile {
    pub fn open(path: &Path) -> io::Result<RotatingFile> {
        Self::with_max(path, MAX_BYTES)
    }

    /// Like [`RotatingFile::open`] with another cap (tests).
    pub fn with_max(path: &Path, max: u64) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            max,
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The formatter hands over one whole event per write, so redaction sees whole lines.
        let text = redact(&String::from_utf8_lossy(buf));
        if self.size > 0 && self.size + text.len() as u64 > self.max {
            self.rotate()?;
        }
        self.file.write_all(text.as_bytes())?;
        self.size += text.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Names after which a secret value follows, in the spellings of the SDK's debug output,
/// HTTP headers, query strings and the shared credential files.
const SECRET_KEYS: &[&str] = &[
    "x-amz-security-token",
    "x-amz-signature",
    "authorization",
    "aws_secret_access_key",
    "secret_access_key",
    "secretaccesskey",
    "aws_session_token",
    "session_token",
    "sessiontoken",
    "securitytoken",
    "security_token",
];

/// One log line made safe: control characters neutralised (newlines kept), and the value after
/// any [`SECRET_KEYS`] name replaced with `[redacted]`.
pub fn redact(text: &str) -> String {
    let clean = text
        .split_inclusive('\n')
        .map(|line| {
            let (body, nl) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            format!("{}{nl}", crate::sanitize::cleaned(body))
        })
        .collect::<String>();
    let lower = clean.to_ascii_lowercase();
    let mut out = String::with_capacity(clean.len());
    let mut i = 0;
    while i < clean.len() {
        let hit = SECRET_KEYS
            .iter()
            .filter_map(|k| lower[i..].find(k).map(|p| (i + p, k.len())))
            .min();
        let Some((at, len)) = hit else {
            out.push_str(&clean[i..]);
            break;
        };
        let mut j = at + len;
        out.push_str(&clean[i..j]);
        // Separators between the name and its value: `: `, `=`, `": "`, `"`, `(`.
        let bytes = clean.as_bytes();
        let sep_start = j;
        while j < bytes.len() && matches!(bytes[j], b':' | b'=' | b' ' | b'"' | b'\'' | b'(') {
            j += 1;
        }
        if j == sep_start {
            // The name inside a longer word (`authorization_type`): not a value.
            i = j;
            continue;
        }
        out.push_str(&clean[sep_start..j]);
        if clean[j..].starts_with("** redacted") {
            // The SDK's own redaction got there first.
            i = j;
            continue;
        }
        let end = clean[j..]
            .find(['"', '\'', ',', ')', '&', '}', '\n', ' ', ';'])
            .map_or(clean.len(), |p| j + p);
        if end > j {
            out.push_str("[redacted]");
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_every_spelling() {
        let line = "x-amz-security-token: FwoGZXIvYXdzEXAMPLE, \"authorization\": \"AWS4-HMAC-SHA256 Credential=AKID/x, Signature=abc\" aws_secret_access_key = wJalrXUtnFEMI\n";
        let out = redact(line);
        for secret in ["FwoGZXIvYXdzEXAMPLE", "wJalrXUtnFEMI", "AWS4-HMAC"] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.ends_with('\n'));
        assert_eq!(
            redact("authorization_type stays\n"),
            "authorization_type stays\n"
        );
        let sdk = "\"authorization\": ** redacted (length=8) **";
        assert_eq!(redact(sdk), sdk);
    }

    #[test]
    fn a_repeated_message_is_printed_once_then_counted() {
        let mut r = Repeats::default();
        let mut printed: Vec<String> = (0..30)
            .filter_map(|_| r.line("kinesis GetRecords: network error"))
            .collect();
        printed.extend(r.line("recovered"));
        assert_eq!(r.finish(), None, "nothing pending after a change");
        assert_eq!(
            printed,
            vec![
                "kinesis GetRecords: network error".to_string(),
                "(the message above repeated 29 more times)\nrecovered".to_string(),
            ]
        );
    }

    #[test]
    fn messages_that_take_turns_are_each_printed_once() {
        let mut r = Repeats::default();
        let (a, b) = (
            "GetShardIterator on s/0: refused",
            "GetShardIterator on s/1: refused",
        );
        let mut printed = Vec::new();
        for _ in 0..10 {
            printed.extend(r.line(a));
            printed.extend(r.line(&format!("{b} (retrying)")));
            printed.extend(r.line(b));
        }
        assert_eq!(printed, vec![a.to_string(), format!("{b} (retrying)")]);
        assert_eq!(
            r.finish().as_deref(),
            Some(
                "(repeated 9 more times: GetShardIterator on s/0: refused)\n\
                 (the message above repeated 19 more times)"
            )
        );
        assert_eq!(r.finish(), None);
    }

    #[test]
    fn control_characters_never_reach_the_log() {
        assert_eq!(redact("a\x1b[2Jb\n"), "a\u{FFFD}[2Jb\n");
    }

    #[test]
    fn the_file_is_rotated_at_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.log");
        let mut f = RotatingFile::with_max(&path, 100).unwrap();
        for _ in 0..10 {
            f.write_all(&[b'x'; 39]).unwrap();
            f.write_all(b"\n").unwrap();
        }
        let now = std::fs::metadata(&path).unwrap().len();
        let old = std::fs::metadata(dir.path().join("w.log.1")).unwrap().len();
        assert!(now <= 100 && old <= 100, "{now} {old}");
    }
}
