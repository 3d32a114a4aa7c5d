//! Writing asciicast v2 recordings (the format `asciinema play` reads).
//!
//! A recording is a JSON header line followed by one JSON array per event:
//! `[seconds, "o", data]` for bytes written to the terminal and `[seconds, "r", "COLSxROWS"]`
//! on resize. [`CastWriter`] is a `Write` adaptor: whatever the TUI writes to the terminal goes
//! through it unchanged and is recorded with the time given by its [`CastClock`], so the same
//! writer records a live session (wall clock) and a headless tape (virtual clock).

use std::io::{self, Write};
use std::time::Instant;

/// Where event times come from: seconds since the recording started.
pub trait CastClock: Send {
    fn elapsed(&self) -> f64;
}

/// Wall-clock time since the recording started (live sessions).
pub struct WallClock(Instant);

impl WallClock {
    pub fn start() -> Self {
        WallClock(Instant::now())
    }
}

impl CastClock for WallClock {
    fn elapsed(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// The header of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct CastHeader {
    pub width: u16,
    pub height: u16,
    /// Unix time the recording started.
    pub timestamp: i64,
    pub title: String,
    pub term: String,
    pub shell: String,
}

impl CastHeader {
    /// The header line, as asciicast v2 specifies it.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "version": 2,
            "width": self.width,
            "height": self.height,
            "timestamp": self.timestamp,
            "title": self.title,
            "env": { "TERM": self.term, "SHELL": self.shell },
        })
        .to_string()
    }
}

/// Tees terminal output into an asciicast v2 recording.
pub struct CastWriter<T: Write, R: Write, C: CastClock> {
    terminal: T,
    recording: R,
    clock: C,
    /// The tail of a UTF-8 sequence split across two writes; events must be valid strings.
    pending: Vec<u8>,
    /// While hidden (a tape's `Hide`), output reaches the terminal but is not recorded.
    hidden: bool,
}

impl<T: Write, R: Write, C: CastClock> CastWriter<T, R, C> {
    /// Writes the header and starts recording.
    pub fn new(terminal: T, mut recording: R, clock: C, header: &CastHeader) -> io::Result<Self> {
        writeln!(recording, "{}", header.to_json())?;
        Ok(CastWriter {
            terminal,
            recording,
            clock,
            pending: Vec::new(),
            hidden: false,
        })
    }

    /// Records a terminal resize.
    pub fn resize(&mut self, cols: u16, rows: u16) -> io::Result<()> {
        let t = self.clock.elapsed();
        self.event(t, "r", &format!("{cols}x{rows}"))
    }

    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    pub fn terminal_mut(&mut self) -> &mut T {
        &mut self.terminal
    }

    /// Flushes and returns the two writers.
    pub fn finish(mut self) -> io::Result<(T, R)> {
        self.flush()?;
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            let t = self.clock.elapsed();
            self.event(t, "o", &rest)?;
        }
        self.recording.flush()?;
        Ok((self.terminal, self.recording))
    }

    fn event(&mut self, t: f64, code: &str, data: &str) -> io::Result<()> {
        let data = serde_json::to_string(data).map_err(io::Error::other)?;
        writeln!(self.recording, "[{t:.6}, \"{code}\", {data}]")
    }

    fn record(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.hidden {
            return Ok(());
        }
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An incomplete sequence at the end waits for the next write; an invalid one in
            // the middle is replaced, as a terminal would.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        if valid == 0 {
            return Ok(());
        }
        let chunk: Vec<u8> = self.pending.drain(..valid).collect();
        let text = String::from_utf8_lossy(&chunk).into_owned();
        let t = self.clock.elapsed();
        self.event(t, "o", &text)
    }
}

impl<T: Write, R: Write, C: CastClock> Write for CastWriter<T, R, C> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.terminal.write(buf)?;
        self.record(&buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.terminal.flush()?;
        self.recording.flush()
    }
}

/// One event read back from a recording (for tests and replay checks).
#[derive(Debug, Clone, PartialEq)]
pub struct CastEvent {
    pub time: f64,
    pub code: String,
    pub data: String,
}

/// Reads a recording back: the header as JSON and the events, checking the format.
pub fn parse_cast(text: &str) -> Result<(serde_json::Value, Vec<CastEvent>), String> {
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().ok_or("empty recording")?)
        .map_err(|e| format!("line 1: header is not JSON: {e}"))?;
    if header.get("version").and_then(|v| v.as_i64()) != Some(2) {
        return Err("line 1: not an asciicast v2 header".into());
    }
    let mut events = Vec::new();
    let mut last = 0.0;
    for (i, line) in lines.enumerate() {
        let lineno = i + 2;
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {lineno}: {e}"))?;
        let arr = v
            .as_array()
            .filter(|a| a.len() == 3)
            .ok_or(format!("line {lineno}: an event is [time, code, data]"))?;
        let time = arr[0]
            .as_f64()
            .ok_or(format!("line {lineno}: time is not a number"))?;
        if time < last {
            return Err(format!("line {lineno}: time goes backwards"));
        }
        last = time;
        events.push(CastEvent {
            time,
            code: arr[1].as_str().unwrap_or_default().to_string(),
            data: arr[2].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok((header, events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A clock the test moves by hand.
    #[derive(Clone, Default)]
    struct ManualClock(Arc<Mutex<f64>>);
    impl CastClock for ManualClock {
        fn elapsed(&self) -> f64 {
            *self.0.lock().unwrap()
        }
    }

    fn header() -> CastHeader {
        CastHeader {
            width: 80,
            height: 24,
            timestamp: 1_700_000_000,
            title: "watchband".into(),
            term: "xterm-256color".into(),
            shell: "/bin/sh".into(),
        }
    }

    #[test]
    fn output_is_teed_and_recorded_with_times() {
        let clock = ManualClock::default();
        let mut w = CastWriter::new(Vec::new(), Vec::new(), clock.clone(), &header()).unwrap();
        w.write_all(b"hello").unwrap();
        *clock.0.lock().unwrap() = 1.5;
        w.write_all("\x1b[1m°C".as_bytes()).unwrap();
        w.resize(100, 30).unwrap();
        let (term, rec) = w.finish().unwrap();
        assert_eq!(term, "hello\x1b[1m°C".as_bytes());
        let (h, events) = parse_cast(&String::from_utf8(rec).unwrap()).unwrap();
        assert_eq!(h["width"], 80);
        assert_eq!(h["env"]["TERM"], "xterm-256color");
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].data, "hello");
        assert_eq!(events[1].time, 1.5);
        assert_eq!(events[1].data, "\x1b[1m°C");
        assert_eq!(
            (events[2].code.as_str(), events[2].data.as_str()),
            ("r", "100x30")
        );
    }

    #[test]
    fn utf8_split_across_writes_is_kept_whole() {
        let mut w =
            CastWriter::new(Vec::new(), Vec::new(), ManualClock::default(), &header()).unwrap();
        let bytes = "°".as_bytes();
        w.write_all(&bytes[..1]).unwrap();
        w.write_all(&bytes[1..]).unwrap();
        let (_, rec) = w.finish().unwrap();
        let (_, events) = parse_cast(&String::from_utf8(rec).unwrap()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "°");
    }

    #[test]
    fn hidden_output_reaches_the_terminal_only() {
        let mut w =
            CastWriter::new(Vec::new(), Vec::new(), ManualClock::default(), &header()).unwrap();
        w.set_hidden(true);
        w.write_all(b"secret setup").unwrap();
        w.set_hidden(false);
        w.write_all(b"shown").unwrap();
        let (term, rec) = w.finish().unwrap();
        assert_eq!(term, b"secret setupshown");
        let (_, events) = parse_cast(&String::from_utf8(rec).unwrap()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "shown");
    }

    #[test]
    fn malformed_recordings_are_refused_with_the_line() {
        assert!(
            parse_cast("{\"version\": 1}")
                .unwrap_err()
                .contains("line 1")
        );
        let bad = format!(
            "{}\n[0.5, \"o\", \"a\"]\n[0.1, \"o\", \"b\"]",
            header().to_json()
        );
        assert!(parse_cast(&bad).unwrap_err().contains("line 3"));
    }
}
