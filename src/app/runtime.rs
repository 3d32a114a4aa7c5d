//! The event loop: one `select!` over terminal input, pipeline events and clock ticks; effects
//! executed; a frame drawn only when the state changed, at most [`FRAME`] apart.
//!
//! Every input arrives on a channel and the screen is a trait, so the tape recorder can drive
//! the same loop headlessly with a virtual clock and a recording backend.
//!
//! A `:profile` / `:region` switch ([`Effect::SwitchAccount`]) opens the other account in a
//! task through the composition root's [`Switcher`]; only when it is open are the loop's
//! pipeline, ticks and account swapped for the new ones (dropping the old pipeline's event
//! receiver stops its tasks), so a failed switch leaves the account watched before running.

use super::state::{AccountChoice, AccountInfo};
use super::state::{AppState, DemoState};
use super::update::{Effect, Input, update};
use crate::cloud::Cloud;
use crate::pipeline::{Command, Event};
use crate::theme::Theme;
use base64::Engine;
use ratatui::layout::Size;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Minimum time between two frames (a cap of 30 frames per second).
pub const FRAME: Duration = Duration::from_millis(33);
/// Pipeline events handled before the loop looks at the keyboard and the frame again.
const BATCH: usize = 256;

/// Where the runtime draws: the real terminal here, a recording backend in the tape recorder.
pub trait Screen {
    /// Draws one frame of the state.
    fn draw(&mut self, state: &AppState) -> io::Result<()>;
    /// Writes bytes that are not a frame (an OSC 52 clipboard sequence).
    fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn size(&self) -> io::Result<Size>;
}

/// The OSC 52 sequence that puts `text` on the clipboard of the terminal the user sits at
/// (it travels over SSH and through tmux with `set-clipboard on`).
pub fn osc52(text: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07").into_bytes()
}

/// The loop's inputs, each on its own channel.
pub struct Inputs {
    /// Keys and resizes.
    pub terminal: mpsc::Receiver<Input>,
    pub pipeline: mpsc::Receiver<Event>,
    /// Clock and demo-state ticks.
    pub ticks: mpsc::Receiver<Input>,
}

/// Where effects go.
pub struct Outputs {
    pub commands: mpsc::Sender<Command>,
    /// The account, for the demo-only controls (`Cloud::demo()`).
    pub cloud: Option<Arc<dyn Cloud>>,
    /// Opens another profile's or region's account (`None`: this run cannot switch, as the
    /// tape player's).
    pub switcher: Option<Arc<dyn Switcher>>,
}

/// Opens the account of another profile or region with everything watching it, for
/// `:profile` and `:region`. The composition root (`session`) implements it: how an account,
/// its store and its pipeline are opened is its business, not the loop's.
#[async_trait::async_trait]
pub trait Switcher: Send + Sync {
    /// The account `choice` names, opened and watched; `Err` is one line for the operator
    /// (no such profile, credentials that do not resolve, an endpoint that does not answer).
    async fn open(&self, choice: AccountChoice) -> Result<Connected, String>;
}

/// An account opened by a [`Switcher`], with its pipeline running.
pub struct Connected {
    pub info: AccountInfo,
    pub cloud: Arc<dyn Cloud>,
    pub events: mpsc::Receiver<Event>,
    pub commands: mpsc::Sender<Command>,
    pub ticks: mpsc::Receiver<Input>,
}

/// Runs until the user quits or every input is closed.
pub async fn event_loop<S: Screen>(
    screen: &mut S,
    state: &mut AppState,
    mut inputs: Inputs,
    mut outputs: Outputs,
) -> std::io::Result<()> {
    let (switched_tx, mut switched) = mpsc::channel::<Result<Connected, String>>(1);
    let mut drawn: Option<u64> = None;
    let mut next_frame = Instant::now();
    // The size before the first resize event: `update` needs it to tell a too-small screen
    // (keys go nowhere) and to map mouse clicks to rows.
    if let Ok(size) = screen.size() {
        update(state, Input::Resize(size.width, size.height));
    }
    loop {
        let dirty = drawn != Some(state.revision);
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(next_frame), if dirty => {
                screen.draw(state)?;
                if drawn.is_none() {
                    // With "watchband started" before it, the log times start-to-first-frame.
                    tracing::info!(identity = state.identity.is_some(), "first frame drawn");
                }
                drawn = Some(state.revision);
                next_frame = Instant::now() + FRAME;
            }
            Some(input) = inputs.terminal.recv() => {
                handle(screen, state, input, &outputs, &switched_tx).await?;
            }
            // Only while a switch is under way: the loop holds the sender itself, so an
            // always-polled receiver would keep the loop alive after every input closed.
            Some(opened) = switched.recv(), if state.switching.is_some() => {
                let answer = match opened {
                    Ok(connected) => {
                        // The old pipeline's receiver is dropped here, which stops its tasks.
                        inputs.pipeline = connected.events;
                        inputs.ticks = connected.ticks;
                        outputs.commands = connected.commands;
                        outputs.cloud = Some(connected.cloud);
                        Ok(connected.info)
                    }
                    Err(e) => Err(e),
                };
                handle(screen, state, Input::AccountSwitched(answer), &outputs, &switched_tx).await?;
            }
            Some(event) = inputs.pipeline.recv() => {
                handle(screen, state, Input::Event(event), &outputs, &switched_tx).await?;
                // Drain a burst without looking at the frame after each event.
                for _ in 0..BATCH {
                    match inputs.pipeline.try_recv() {
                        Ok(e) => handle(screen, state, Input::Event(e), &outputs, &switched_tx).await?,
                        Err(_) => break,
                    }
                }
            }
            Some(input) = inputs.ticks.recv() => {
                handle(screen, state, input, &outputs, &switched_tx).await?;
            }
            else => break,
        }
        if state.quit {
            break;
        }
    }
    Ok(())
}

async fn handle<S: Screen>(
    screen: &mut S,
    state: &mut AppState,
    input: Input,
    outputs: &Outputs,
    switched: &mpsc::Sender<Result<Connected, String>>,
) -> std::io::Result<()> {
    let mut queue = vec![input];
    while let Some(input) = queue.pop() {
        for effect in update(state, input) {
            match effect {
                Effect::Pipeline(command) => {
                    if outputs.commands.send(command).await.is_err() {
                        let _ = update(
                            state,
                            Input::Event(Event::Outcome(crate::pipeline::Outcome {
                                command: "command".into(),
                                ok: false,
                                message: "the pipeline has stopped; restart watchband".into(),
                            })),
                        );
                    }
                }
                Effect::CopyToClipboard(text) => screen.write_raw(&osc52(&text))?,
                Effect::LoadTheme(spec) => {
                    let loaded =
                        Theme::load(&spec, Theme::user_dir().as_deref()).map_err(|e| e.to_string());
                    queue.push(Input::ThemeLoaded(loaded));
                }
                Effect::SwitchAccount(choice) => match &outputs.switcher {
                    Some(switcher) => {
                        // Opening an account waits on the network: never on this loop.
                        let switcher = switcher.clone();
                        let tx = switched.clone();
                        tokio::spawn(async move {
                            let _ = tx.send(switcher.open(choice).await).await;
                        });
                    }
                    None => queue.push(Input::AccountSwitched(Err(
                        "this run cannot switch accounts".into(),
                    ))),
                },
                Effect::DemoPause(paused) => {
                    if let Some(d) = outputs.cloud.as_ref().and_then(|c| c.demo()) {
                        d.set_paused(paused);
                    }
                }
                Effect::DemoBurst { volume_arn } => {
                    if let Some(d) = outputs.cloud.as_ref().and_then(|c| c.demo())
                        && let Err(e) = d.inject_burst(&volume_arn)
                    {
                        queue.push(Input::Event(Event::Outcome(crate::pipeline::Outcome {
                            command: "inject burst".into(),
                            ok: false,
                            message: e,
                        })));
                    }
                }
                Effect::Quit => state.quit = true,
            }
        }
    }
    Ok(())
}

/// Reads the terminal on its own thread (crossterm's `read` blocks) and forwards keys,
/// resizes and, with `--mouse`, mouse events.
pub fn spawn_terminal_reader(mouse: bool) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        loop {
            let input = match crossterm::event::read() {
                Ok(crossterm::event::Event::Key(k)) => Input::Key(k),
                Ok(crossterm::event::Event::Resize(w, h)) => Input::Resize(w, h),
                Ok(crossterm::event::Event::Mouse(m)) if mouse => Input::Mouse(m),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.blocking_send(input).is_err() {
                return;
            }
        }
    });
    rx
}

/// Sends the account's clock every `every`, and the demo controls' state when there are any.
pub fn spawn_ticks(cloud: Arc<dyn Cloud>, every: Duration) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if let Some(d) = cloud.demo() {
                let demo = DemoState {
                    paused: d.is_paused(),
                    speed: d.speed(),
                };
                if tx.send(Input::Demo(demo)).await.is_err() {
                    return;
                }
            }
            if tx.send(Input::Clock(cloud.now())).await.is_err() {
                return;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_encodes_the_text() {
        assert_eq!(osc52("arn:x"), b"\x1b]52;c;YXJuOng=\x07".to_vec());
    }
}
