//! The application: [`AppState`], the keys, [`update`] (pure: state + input → effects) and the
//! runtime that wires the terminal, the pipeline and the clock to them ([`run`]).

pub mod feed;
pub mod fixture;
pub mod keymap;
pub mod runtime;
pub mod state;
pub mod update;

pub use state::AppState;
pub use update::{Effect, Input, update};

use crate::cli::{SourceArgs, UiArgs};
use crate::cloud::Cloud;
use crate::config::Config;
use crate::pipeline::PipelineConfig;
use crate::ui::terminal::TerminalScreen;
use crate::ui::theme::Theme;
use anyhow::Context;
use runtime::{Inputs, Outputs, event_loop, spawn_terminal_reader, spawn_ticks};
use state::{ActionConfig, DemoState};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How the demo account or AWS is chosen: `--demo`, or no AWS configuration at all, gives the
/// simulated account; anything else is the real SDK.
pub fn wants_demo(source: &SourceArgs, config: &Config) -> bool {
    if source.demo {
        return true;
    }
    if config.aws.profile.is_some() || config.aws.endpoint_url.is_some() {
        return false;
    }
    let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let aws_files = dirs::home_dir()
        .map(|h| h.join(".aws/config").exists() || h.join(".aws/credentials").exists())
        .unwrap_or(false);
    !(source.profile.is_some()
        || source.endpoint_url.is_some()
        || env("AWS_ACCESS_KEY_ID")
        || env("AWS_PROFILE")
        || env("AWS_ENDPOINT_URL")
        || env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        || env("AWS_WEB_IDENTITY_TOKEN_FILE")
        || aws_files)
}

/// The account the TUI watches. The AWS branch is the "aws" module's seam.
pub async fn open_cloud(source: &SourceArgs, config: &Config) -> anyhow::Result<Arc<dyn Cloud>> {
    if wants_demo(source, config) {
        return open_demo(source);
    }
    open_aws(source, config).await
}

fn open_demo(source: &SourceArgs) -> anyhow::Result<Arc<dyn Cloud>> {
    let faults = source
        .faults
        .parse::<crate::cloud::sim::FaultProfile>()
        .map_err(|e| anyhow::anyhow!("--faults {}: {e}", source.faults))?;
    if !(source.speed.is_finite() && source.speed > 0.0) {
        anyhow::bail!("--speed must be a positive number of simulated seconds per second");
    }
    let sim = crate::cloud::sim::SimCloud::new(crate::cloud::sim::SimOptions {
        seed: source.seed,
        speed: source.speed,
        faults,
        ..Default::default()
    });
    Ok(sim)
}

async fn open_aws(source: &SourceArgs, config: &Config) -> anyhow::Result<Arc<dyn Cloud>> {
    let options = config.aws_options(source);
    let cloud = crate::cloud::aws::AwsCloud::connect(&options).await?;
    Ok(Arc::new(cloud))
}

/// The embedded store: the user's data directory on AWS (acknowledgements, change counts and
/// checkpoints survive a restart); none for the demo, whose account is rebuilt on every start.
fn open_store(cloud: &dyn Cloud) -> anyhow::Result<Option<Arc<crate::store::Store>>> {
    if cloud.demo().is_some() {
        return Ok(None);
    }
    let Some(path) = crate::store::Store::default_path() else {
        return Ok(None);
    };
    let store = crate::store::Store::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok(Some(Arc::new(store)))
}

/// What the TUI needs besides the account.
pub struct RunOptions {
    pub read_only: bool,
    pub publish: bool,
    pub mouse: bool,
    pub theme: Theme,
    /// What to watch (the configuration file and flags).
    pub pipeline: PipelineConfig,
    /// `--record FILE.cast`: tee the terminal output into an asciicast recording.
    pub record: Option<std::path::PathBuf>,
}

/// The TUI: `watchband` with no subcommand.
pub fn run(source: &SourceArgs, ui: &UiArgs) -> anyhow::Result<ExitCode> {
    // A bad theme is refused before the terminal is touched, so the message stays readable.
    let theme = Theme::initial(ui.theme.as_deref(), Theme::no_color_requested())?;
    // A bad configuration file is refused the same way, with its path, line and reason.
    let config = Config::load(source.config.as_deref())?;
    let options = RunOptions {
        read_only: source.read_only,
        publish: source.publish,
        mouse: ui.mouse,
        theme,
        pipeline: config.pipeline_config(source),
        record: ui.record.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let cloud = open_cloud(source, &config).await?;
        run_on(cloud, options).await
    })?;
    // Tasks blocked on the network must not hold the exit.
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(ExitCode::SUCCESS)
}

/// Runs the TUI on an account in the real terminal.
pub async fn run_on(cloud: Arc<dyn Cloud>, options: RunOptions) -> anyhow::Result<()> {
    let config = options.pipeline;
    let mut state = AppState::new(cloud.now(), cloud.kind(), options.read_only, options.theme);
    state.user = crate::pipeline::acks::current_user();
    state.actions = ActionConfig {
        vault: config.vault.clone(),
        backup_role_arn: config.backup_role.clone(),
        topic: config.backup_topic.clone(),
    };
    if let Some(d) = cloud.demo() {
        state.demo = Some(DemoState {
            paused: d.is_paused(),
            speed: d.speed(),
        });
    }
    if Theme::no_color_requested() {
        // We already dropped colours ourselves; keep crossterm from also dropping modifiers.
        crossterm::style::force_color_output(true);
    }
    let store = open_store(cloud.as_ref())?;
    // The demo account runs watchband's processors as its deployed functions (on AWS they are
    // Lambda functions the operator deployed from deploy/template.yaml).
    let _functions = cloud
        .demo()
        .is_some()
        .then(|| crate::process::deployed::spawn(cloud.clone(), Default::default()));
    let (events, commands) = crate::pipeline::spawn(cloud.clone(), store, config);
    // The recording is created before the terminal changes mode, so its error stays readable.
    let out: Box<dyn std::io::Write + Send> = match &options.record {
        Some(path) => Box::new(crate::record::live::LiveRecorder::create(path)?),
        None => Box::new(std::io::stdout()),
    };
    let mut screen =
        TerminalScreen::enter_with(options.mouse, out).context("cannot set up the terminal")?;
    let started = std::time::Instant::now();
    let inputs = Inputs {
        terminal: spawn_terminal_reader(options.mouse),
        pipeline: events,
        ticks: spawn_ticks(cloud.clone(), Duration::from_secs(1)),
    };
    let outputs = Outputs {
        commands,
        cloud: Some(cloud),
    };
    let result = event_loop(&mut screen, &mut state, inputs, outputs).await;
    let bytes = screen.bytes.load(std::sync::atomic::Ordering::Relaxed);
    drop(screen);
    // WATCHBAND_BYTES_REPORT=FILE: how much reached the terminal (docs/ui.md's figures).
    if let Some(path) = std::env::var_os("WATCHBAND_BYTES_REPORT") {
        let secs = started.elapsed().as_secs_f64();
        let _ = std::fs::write(
            path,
            format!(
                "{bytes} bytes in {secs:.1} s = {:.0} bytes/s\n",
                bytes as f64 / secs
            ),
        );
    }
    result.context("terminal I/O failed")?;
    Ok(())
}
