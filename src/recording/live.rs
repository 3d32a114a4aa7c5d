//! `--record FILE.cast`: the live TUI's terminal output teed into an asciicast v2 file on the
//! wall clock, with a resize event whenever the terminal's size changes.

use super::asciicast::{CastHeader, CastWriter, WallClock};
use std::fs::File;
use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;

/// The terminal writer of a recorded session.
pub struct LiveRecorder {
    cast: CastWriter<Stdout, BufWriter<File>, WallClock>,
    size: (u16, u16),
    /// Set by a flush: the next write looks at the terminal's size first, so a resize is
    /// recorded before the frame drawn at the new size.
    check_size: bool,
    /// The frame being written: it reaches the terminal and the recording whole at the flush
    /// that ends it (one event per frame, not one per escape sequence).
    frame: Vec<u8>,
}

impl LiveRecorder {
    /// Creates the recording (header written at once) for the terminal on stdout.
    pub fn create(path: &Path) -> io::Result<LiveRecorder> {
        let size = crossterm::terminal::size().unwrap_or((80, 24));
        let file = File::create(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create the recording {}: {e}", path.display()),
            )
        })?;
        let env = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.into());
        let header = CastHeader {
            width: size.0,
            height: size.1,
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            title: "watchband".into(),
            term: env("TERM", "xterm-256color"),
            shell: env("SHELL", "/bin/sh"),
        };
        let cast = CastWriter::new(
            io::stdout(),
            BufWriter::new(file),
            WallClock::start(),
            &header,
        )?;
        Ok(LiveRecorder {
            cast,
            size,
            check_size: false,
            frame: Vec::new(),
        })
    }
}

impl Write for LiveRecorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.check_size {
            self.check_size = false;
            if let Ok(size) = crossterm::terminal::size()
                && size != self.size
            {
                self.size = size;
                self.cast.resize(size.0, size.1)?;
            }
        }
        self.frame.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check_size = true;
        if !self.frame.is_empty() {
            let frame = std::mem::take(&mut self.frame);
            self.cast.write_all(&frame)?;
        }
        self.cast.flush()
    }
}
