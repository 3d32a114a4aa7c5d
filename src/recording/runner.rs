//! Playing a tape headlessly: the demo account, the pipeline and the app's own event loop on a
//! tokio runtime whose time is virtual, with the screen rendered into an asciicast recording.
//!
//! Why it is deterministic: the runtime is single-threaded with paused time, so tokio only moves
//! the clock when every task is waiting on a timer, and always to the next one; the simulated
//! account derives its clock from tokio's; the recording's times come from the same clock; the
//! header's timestamp is the simulated start; nothing reads the wall clock, the user or the
//! host. Same tape + same seed ⇒ the same bytes.

use super::asciicast::{CastClock, CastHeader, CastWriter};
use super::tape::{Step, Tape};
use crate::app::runtime::{Inputs, Outputs, Screen, event_loop, spawn_ticks};
use crate::app::{AppState, Input};
use crate::cloud::Cloud;
use crate::cloud::sim::{SimCloud, SimOptions};
use crate::pipeline::PipelineConfig;
use crate::theme::Theme;
use anyhow::Context;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How far the virtual clock moves per step of a `Sleep`: the app ticks and draws in between.
pub const STEP: Duration = Duration::from_millis(100);
/// TERM and SHELL written in a tape's header (fixed: the host's must not leak in).
pub const TAPE_TERM: &str = "xterm-256color";
pub const TAPE_SHELL: &str = "/bin/sh";

/// What a run needs besides the tape.
#[derive(Debug, Clone)]
pub struct TapeOptions {
    /// Seed of the simulated world.
    pub seed: u64,
    /// Simulated seconds per (virtual) second.
    pub speed: f64,
    /// Title written in the header.
    pub title: String,
}

/// What a run wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TapeReport {
    /// Every file written, in order.
    pub written: Vec<PathBuf>,
    /// Virtual seconds the walkthrough lasted.
    pub seconds: f64,
    /// Events in the recording.
    pub events: usize,
}

/// Recording times: seconds of tokio (virtual) time since the recording started.
struct VirtualClock(tokio::time::Instant);

impl CastClock for VirtualClock {
    fn elapsed(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// The recording's bytes, reachable by the backend and the runner. While `hidden` (a tape's
/// `Hide`) whole events are dropped: the runner only toggles it between two writes.
#[derive(Default)]
struct Recording {
    bytes: Vec<u8>,
    hidden: bool,
}

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Recording>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut r = lock(&self.0);
        if !r.hidden {
            r.bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Frames are buffered and reach the recording whole at each flush: one event per frame
/// rather than one per escape sequence.
type CastBackend = CrosstermBackend<io::BufWriter<CastWriter<io::Sink, SharedBuf, VirtualClock>>>;
/// Larger than any frame, so a frame is never split across two events.
const FRAME_BUFFER: usize = 1 << 20;

/// The screen the event loop draws on, shared with the runner (screenshots, Hide/Show).
struct Shared {
    terminal: Terminal<CastBackend>,
    /// The last frame drawn: what a viewer of the terminal sees.
    last: Buffer,
    /// Output was hidden since the last `Show`: the recording's screen is stale.
    stale: bool,
}

#[derive(Clone)]
struct TapeScreen {
    shared: Arc<Mutex<Shared>>,
    recording: SharedBuf,
    size: Size,
}

impl Screen for TapeScreen {
    fn draw(&mut self, state: &AppState) -> io::Result<()> {
        let mut s = lock(&self.shared);
        crossterm::queue!(
            s.terminal.backend_mut(),
            crossterm::terminal::BeginSynchronizedUpdate
        )?;
        let frame = s.terminal.draw(|f| crate::ui::render(f, state))?;
        let buffer = frame.buffer.clone();
        s.last = buffer;
        crossterm::queue!(
            s.terminal.backend_mut(),
            crossterm::terminal::EndSynchronizedUpdate
        )?;
        Backend::flush(s.terminal.backend_mut())
    }

    fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut s = lock(&self.shared);
        let w = s.terminal.backend_mut();
        w.write_all(bytes)?;
        Write::flush(w)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }
}

impl TapeScreen {
    fn set_hidden(&self, hidden: bool) -> io::Result<()> {
        let mut s = lock(&self.shared);
        // Whatever the backend buffered belongs to the side of the switch it was written on.
        Backend::flush(s.terminal.backend_mut())?;
        lock(&self.recording.0).hidden = hidden;
        if hidden {
            s.stale = true;
        } else if s.stale {
            // Frames drawn while hidden were sent as differences the recording never saw:
            // repaint the whole screen so playback shows what the terminal shows.
            s.stale = false;
            let last = s.last.clone();
            let area = last.area;
            let backend = s.terminal.backend_mut();
            crossterm::queue!(backend, crossterm::terminal::BeginSynchronizedUpdate)?;
            backend.draw(area.positions().map(|p| (p.x, p.y, &last[p])))?;
            crossterm::queue!(backend, crossterm::terminal::EndSynchronizedUpdate)?;
            Backend::flush(backend)?;
        }
        Ok(())
    }

    fn text(&self) -> String {
        screen_text(&lock(&self.shared).last)
    }
}

/// The screen as plain text: one line per row, trailing blanks trimmed, the second half of a
/// wide character skipped (as a terminal shows it).
pub fn screen_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            let width = unicode_width::UnicodeWidthStr::width(symbol);
            line.push_str(if symbol.is_empty() { " " } else { symbol });
            skip = width.saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Runs a tape; `place` maps each path the tape names to where it is written.
pub fn run_tape(
    tape: &Tape,
    options: &TapeOptions,
    place: &dyn Fn(&Path) -> PathBuf,
) -> anyhow::Result<TapeReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .context("cannot start the virtual-time runtime")?;
    rt.block_on(play(tape, options, place))
}

async fn play(
    tape: &Tape,
    options: &TapeOptions,
    place: &dyn Fn(&Path) -> PathBuf,
) -> anyhow::Result<TapeReport> {
    let sim = SimCloud::new(SimOptions {
        seed: options.seed,
        speed: options.speed,
        ..Default::default()
    });
    let cloud: Arc<dyn Cloud> = sim.clone();
    let started = tokio::time::Instant::now();
    let header = CastHeader {
        width: tape.width,
        height: tape.height,
        timestamp: sim.start_time().timestamp(),
        title: options.title.clone(),
        term: TAPE_TERM.into(),
        shell: TAPE_SHELL.into(),
    };
    let recording = SharedBuf::default();
    let writer = CastWriter::new(
        io::sink(),
        recording.clone(),
        VirtualClock(started),
        &header,
    )?;
    let area = Rect::new(0, 0, tape.width, tape.height);
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(io::BufWriter::with_capacity(FRAME_BUFFER, writer)),
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )?;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::cursor::Hide,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    let screen = TapeScreen {
        shared: Arc::new(Mutex::new(Shared {
            terminal,
            last: Buffer::empty(area),
            stale: false,
        })),
        recording: recording.clone(),
        size: Size::new(tape.width, tape.height),
    };

    // The app as `run_on` sets it up, minus everything that depends on the host.
    let config = PipelineConfig {
        queue_id: "watchband-tape".into(),
        ..PipelineConfig::default()
    };
    let theme = Theme::initial(None, false)?;
    let mut state = AppState::for_account(cloud.as_ref(), false, theme, "operator".into(), &config);
    let _functions = crate::processors::deployed::spawn(cloud.clone(), Default::default());
    let (events, commands) = crate::pipeline::spawn(cloud.clone(), None, config);
    let (keys_tx, keys_rx) = mpsc::channel(64);
    let inputs = Inputs {
        terminal: keys_rx,
        pipeline: events,
        ticks: spawn_ticks(cloud.clone(), Duration::from_secs(1)),
    };
    let outputs = Outputs {
        switcher: None,
        commands,
        cloud: Some(cloud.clone()),
    };
    let mut report = TapeReport::default();
    let mut loop_screen = screen.clone();
    {
        let app = event_loop(&mut loop_screen, &mut state, inputs, outputs);
        tokio::pin!(app);
        let steps = drive(tape, &screen, keys_tx, place, &mut report);
        tokio::pin!(steps);
        tokio::select! {
            biased;
            done = &mut steps => done?,
            ended = &mut app => {
                ended.context("drawing the tape's screen failed")?;
                // The tape quit the app itself: the remaining steps have nothing to act on.
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();

    if let Some(path) = &tape.text_output {
        report
            .written
            .push(write_file(&place(path), &screen.text())?);
    }
    // The recording ends here: whatever the backend still holds goes in, then it is written.
    {
        let mut s = lock(&screen.shared);
        Backend::flush(s.terminal.backend_mut())?;
    }
    let bytes = std::mem::take(&mut lock(&recording.0).bytes);
    report.events = bytes
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    if let Some(path) = &tape.cast_output {
        report
            .written
            .push(write_file(&place(path), &String::from_utf8(bytes)?)?);
    }
    Ok(report)
}

/// Plays the steps: keys go to the app as terminal input, sleeps let virtual time run.
async fn drive(
    tape: &Tape,
    screen: &TapeScreen,
    keys: mpsc::Sender<Input>,
    place: &dyn Fn(&Path) -> PathBuf,
    report: &mut TapeReport,
) -> anyhow::Result<()> {
    // The app learns its size the way a terminal tells it.
    let _ = keys.send(Input::Resize(tape.width, tape.height)).await;
    for (line, step) in &tape.steps {
        let at = |e: anyhow::Error| e.context(format!("tape line {line}"));
        match step {
            Step::Keys {
                keys: pressed,
                delay,
            } => {
                for key in pressed {
                    if keys.send(Input::Key(*key)).await.is_err() {
                        return Ok(());
                    }
                    run_for(*delay).await;
                }
            }
            Step::Sleep(d) => run_for(*d).await,
            Step::Hide => screen.set_hidden(true).map_err(|e| at(e.into()))?,
            Step::Show => screen.set_hidden(false).map_err(|e| at(e.into()))?,
            Step::Screenshot(path) => {
                let written = write_file(&place(path), &screen.text()).map_err(at)?;
                report.written.push(written);
            }
        }
    }
    // Let the last change reach the screen before the recording ends.
    run_for(STEP).await;
    Ok(())
}

/// Moves virtual time forward by `d` in frame-sized steps, so the app ticks and draws between.
async fn run_for(d: Duration) {
    let mut left = d;
    while !left.is_zero() {
        let step = left.min(STEP);
        tokio::time::sleep(step).await;
        left -= step;
    }
    // Zero-length steps still yield, so a key is handled before the next one is sent.
    tokio::task::yield_now().await;
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Reads and runs a tape file; output paths are taken as written (relative to the current
/// directory), as VHS does.
pub fn run_file(path: &Path, options: &TapeOptions) -> anyhow::Result<TapeReport> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the tape {}", path.display()))?;
    let tape = super::tape::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    run_tape(&tape, options, &|p| p.to_path_buf())
}
