//! The composition root: how a command gets its account, its store and, for the TUI, its
//! terminal. Every command (`cli/`) calls in here with plain options; nothing below this module
//! knows about the command line, and this is the one place that wires the account, the
//! pipeline, the demo's deployed functions and the terminal together.

use crate::app::AppState;
use crate::app::runtime::{Inputs, Outputs, event_loop, spawn_terminal_reader, spawn_ticks};
use crate::cloud::Cloud;
use crate::config::{Config, Overrides};
use crate::pipeline::PipelineConfig;
use crate::theme::Theme;
use crate::ui::terminal::TerminalScreen;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the data comes from: the embedded demo account or AWS, as plain options.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOptions {
    /// The embedded simulated account instead of AWS.
    pub demo: bool,
    /// Seed of the simulated world (same seed, same world).
    pub seed: u64,
    /// Simulated seconds per real second in the demo.
    pub speed: f64,
    /// The demo's fault profile (`none`, `throttle`, `flaky`, `expired`, `dropped`, `chaos`).
    pub faults: String,
    /// The configuration file (default: `watchband/config.toml` in the user's config directory).
    pub config: Option<PathBuf>,
    /// What the command line says over the configuration file.
    pub overrides: Overrides,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            demo: false,
            seed: 7,
            speed: 3600.0,
            faults: "none".into(),
            config: None,
            overrides: Overrides::default(),
        }
    }
}

/// How the TUI looks and behaves, as plain options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TuiOptions {
    /// Theme name or path.
    pub theme: Option<String>,
    /// Capture the mouse.
    pub mouse: bool,
    /// Tee the terminal output into an asciicast recording.
    pub record: Option<PathBuf>,
}

/// The async runtime every command runs on: two workers, as the machines it targets have few
/// cores and the work is I/O-bound.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How the demo account or AWS is chosen: `--demo`, or no AWS configuration at all, gives the
/// simulated account; anything else is the real SDK.
pub fn wants_demo(source: &SourceOptions, config: &Config) -> bool {
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
    !(source.overrides.profile.is_some()
        || source.overrides.endpoint_url.is_some()
        || env("AWS_ACCESS_KEY_ID")
        || env("AWS_PROFILE")
        || env("AWS_ENDPOINT_URL")
        || env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        || env("AWS_WEB_IDENTITY_TOKEN_FILE")
        || aws_files)
}

/// The account a command watches.
pub async fn open_cloud(source: &SourceOptions, config: &Config) -> anyhow::Result<Arc<dyn Cloud>> {
    if wants_demo(source, config) {
        return open_demo(source);
    }
    open_aws(source, config).await
}

fn open_demo(source: &SourceOptions) -> anyhow::Result<Arc<dyn Cloud>> {
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

async fn open_aws(source: &SourceOptions, config: &Config) -> anyhow::Result<Arc<dyn Cloud>> {
    let options = config.aws_options(&source.overrides);
    let cloud = crate::cloud::aws::AwsCloud::connect(&options).await?;
    Ok(Arc::new(cloud))
}

/// The embedded store in the user's data directory, so acknowledgements, change counts and
/// checkpoints survive a restart. The demo keeps one per seed (`demo-<seed>.db`): the same
/// seed is the same world, whose alarm episodes its acknowledgements belong to (see
/// [`restore_demo_acks`]).
pub fn open_store(cloud: &dyn Cloud) -> anyhow::Result<Option<Arc<crate::store::Store>>> {
    let Some(path) = crate::store::Store::default_path() else {
        return Ok(None);
    };
    let demo = cloud.demo().map(|d| d.seed());
    let path = match demo {
        Some(seed) => path.with_file_name(format!("demo-{seed}.db")),
        None => path,
    };
    let store = crate::store::Store::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok(Some(Arc::new(store)))
}

/// The demo's account is rebuilt empty on every start, its store is not: the acknowledgements
/// it keeps are written back into the simulated account's table (first wins, as always), so
/// every reader — the TUI, `scan`, `alarms`, the deployed functions — finds them through the
/// same shared path as on AWS. Does nothing on AWS.
pub async fn restore_demo_acks(cloud: &dyn Cloud, table: &str) -> anyhow::Result<()> {
    if cloud.demo().is_none() {
        return Ok(());
    }
    let Some(store) = open_store(cloud)? else {
        return Ok(());
    };
    for (ack, _) in store.cached_acks()? {
        match cloud
            .put_item(table, ack.to_item(), Some(crate::interop::first_ack_wins()))
            .await
        {
            Ok(()) => store.cache_ack(&ack, true)?,
            Err(e) if e.kind == crate::cloud::ErrorKind::ConditionFailed => {}
            Err(e) => anyhow::bail!("cannot restore the demo's acknowledgements: {e}"),
        }
    }
    Ok(())
}

/// What the TUI needs besides the account.
pub struct RunOptions {
    pub read_only: bool,
    pub mouse: bool,
    pub theme: Theme,
    /// What to watch (the configuration file and flags).
    pub pipeline: PipelineConfig,
    /// `--record FILE.cast`: tee the terminal output into an asciicast recording.
    pub record: Option<PathBuf>,
}

/// The TUI: `watchband` with no subcommand.
pub fn run_tui(source: &SourceOptions, ui: &TuiOptions) -> anyhow::Result<()> {
    // A bad theme is refused before the terminal is touched, so the message stays readable.
    let theme = Theme::initial(ui.theme.as_deref(), Theme::no_color_requested())?;
    // A bad configuration file is refused the same way, with its path, line and reason.
    let config = Config::load(source.config.as_deref())?;
    let options = RunOptions {
        read_only: source.overrides.read_only,
        mouse: ui.mouse,
        theme,
        pipeline: config.pipeline_config(&source.overrides),
        record: ui.record.clone(),
    };
    let rt = runtime()?;
    rt.block_on(async {
        let cloud = open_cloud(source, &config).await?;
        run_on(cloud, options).await
    })?;
    // Tasks blocked on the network must not hold the exit.
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}

/// Runs the TUI on an account in the real terminal.
pub async fn run_on(cloud: Arc<dyn Cloud>, options: RunOptions) -> anyhow::Result<()> {
    let config = options.pipeline;
    let mut state = AppState::for_account(
        cloud.as_ref(),
        options.read_only,
        options.theme,
        crate::pipeline::acks::current_user(),
        &config,
    );
    if Theme::no_color_requested() {
        // We already dropped colours ourselves; keep crossterm from also dropping modifiers.
        crossterm::style::force_color_output(true);
    }
    restore_demo_acks(cloud.as_ref(), &config.ack_table).await?;
    let store = open_store(cloud.as_ref())?;
    // The demo account runs watchband's processors as its deployed functions (on AWS they are
    // Lambda functions the operator deployed from deploy/template.yaml).
    let _functions = cloud
        .demo()
        .is_some()
        .then(|| crate::processors::deployed::spawn(cloud.clone(), Default::default()));
    let (events, commands) = crate::pipeline::spawn(cloud.clone(), store, config);
    // The recording is created before the terminal changes mode, so its error stays readable.
    let out: Box<dyn std::io::Write + Send> = match &options.record {
        Some(path) => Box::new(crate::recording::live::LiveRecorder::create(path)?),
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
