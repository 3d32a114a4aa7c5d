//! The real terminal: raw mode and the alternate screen on the way in, and the way out on quit,
//! on error and on panic; frames wrapped in synchronized updates;
//! a byte counter so "how much do we write" is a measurement, not a guess.

use crossterm::{
    cursor, event,
    terminal::{self, BeginSynchronizedUpdate, EndSynchronizedUpdate},
};
use ratatui::{
    Terminal,
    backend::{CrosstermBackend, TestBackend},
    buffer::Buffer,
    layout::Size,
};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::app::AppState;
use crate::app::runtime::Screen;

/// Counts the bytes that reach the terminal.
pub struct CountingWriter<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W: Write> CountingWriter<W> {
    pub fn new(inner: W) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            CountingWriter {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Puts the terminal back as we found it. Safe to call more than once.
pub fn restore(mouse: bool) {
    let mut out = io::stdout();
    if mouse {
        let _ = crossterm::execute!(out, event::DisableMouseCapture);
    }
    let _ = crossterm::execute!(
        out,
        EndSynchronizedUpdate,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

/// The crossterm terminal with its guard: dropping it restores the terminal.
pub struct TerminalScreen {
    terminal: Terminal<CrosstermBackend<CountingWriter<Box<dyn Write + Send>>>>,
    mouse: bool,
    /// Bytes written so far.
    pub bytes: Arc<AtomicU64>,
    /// An off-screen copy of the last frame: a state change that changes no cell (a counter
    /// on another view) then writes nothing at all, not even an empty synchronized update.
    shadow: Terminal<TestBackend>,
    last: Option<Buffer>,
}

impl TerminalScreen {
    /// Enters raw mode and the alternate screen; installs a panic hook that restores the
    /// terminal before the panic message is printed (so the message is readable).
    pub fn enter(mouse: bool) -> io::Result<TerminalScreen> {
        Self::enter_with(mouse, Box::new(io::stdout()))
    }

    /// Like [`TerminalScreen::enter`], with frames written to `frames` (stdout, or a recorder
    /// that tees stdout into a `--record` file).
    pub fn enter_with(mouse: bool, frames: Box<dyn Write + Send>) -> io::Result<TerminalScreen> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore(mouse);
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        crossterm::execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
        if mouse {
            crossterm::execute!(out, event::EnableMouseCapture)?;
        }
        let (writer, bytes) = CountingWriter::new(frames);
        let terminal = Terminal::new(CrosstermBackend::new(writer))?;
        let size = terminal.size()?;
        let Ok(shadow) = Terminal::new(TestBackend::new(size.width, size.height));
        Ok(TerminalScreen {
            terminal,
            mouse,
            bytes,
            shadow,
            last: None,
        })
    }
}

impl TerminalScreen {
    /// Draws a screen that is not the application's (the no-account screen before any account
    /// is open).
    pub fn draw_with(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        self.terminal.draw(render)?;
        self.terminal.backend_mut().flush()
    }
}

impl Drop for TerminalScreen {
    fn drop(&mut self) {
        restore(self.mouse);
    }
}

impl Screen for TerminalScreen {
    fn draw(&mut self, state: &AppState) -> io::Result<()> {
        let size = self.terminal.size()?;
        if self.shadow.backend().buffer().area.as_size() != size {
            self.shadow.backend_mut().resize(size.width, size.height);
            self.last = None;
        }
        self.shadow
            .draw(|f| crate::ui::render(f, state))
            .map_err(|e| io::Error::other(e.to_string()))?;
        let frame = self.shadow.backend().buffer().clone();
        if self.last.as_ref() == Some(&frame) {
            return Ok(());
        }
        self.last = Some(frame);
        // Synchronized update: the terminal shows the frame at once, never half of it.
        crossterm::queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        self.terminal.draw(|f| crate::ui::render(f, state))?;
        crossterm::queue!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.terminal.backend_mut().flush()
    }

    fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let b = self.terminal.backend_mut();
        b.write_all(bytes)?;
        b.flush()
    }

    fn size(&self) -> io::Result<Size> {
        self.terminal.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counting_writer_counts() {
        let (mut w, n) = CountingWriter::new(Vec::new());
        w.write_all(b"hello").unwrap();
        assert_eq!(n.load(Ordering::Relaxed), 5);
    }
}
