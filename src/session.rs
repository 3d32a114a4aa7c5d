//! The composition root: how a command gets its account, its store and, for the TUI, its
//! terminal. Every command (`cli/`) calls in here with plain options; nothing below this module
//! knows about the command line, and this is the one place that wires the account, the
//! pipeline, the demo's deployed functions and the terminal together.

use crate::app::AppState;
use crate::app::runtime::{
    Connected, Inputs, Outputs, Switcher, event_loop, spawn_terminal_reader, spawn_ticks,
};
use crate::app::state::{AccountChoice, AccountInfo};
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

/// Whether the command runs on the demo account: only when `--demo` says so. Anything else is
/// the SDK's whole default chain, so a bastion with an instance role and no `~/.aws` never
/// watches a simulated account by surprise.
pub fn wants_demo(source: &SourceOptions) -> bool {
    source.demo
}

/// The account a headless command watches. On AWS the credential chain is resolved and the
/// caller identity asked once, so a command without credentials, or whose endpoint refuses,
/// times out or fails TLS, stops at once with one line instead of retrying every source.
pub async fn open_cloud(source: &SourceOptions, config: &Config) -> anyhow::Result<Arc<dyn Cloud>> {
    if wants_demo(source) {
        return open_demo(source);
    }
    let cloud = open_aws(source, config).await?;
    tokio::time::timeout(REACH_TIMEOUT, cloud.caller_identity())
        .await
        .map_err(|_| {
            crate::cloud::CloudError::new(
                crate::cloud::ErrorKind::Network,
                "sts",
                "GetCallerIdentity",
                format!("no answer within {} s", REACH_TIMEOUT.as_secs()),
            )
        })??;
    Ok(cloud)
}

/// How long the first call may take before a headless command gives up (the connect timeout
/// is 5 s, so a silent endpoint is reported well within 10 s).
const REACH_TIMEOUT: Duration = Duration::from_secs(8);

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

/// The AWS account through the default chain; fails with one line when no credentials resolve.
async fn open_aws(
    source: &SourceOptions,
    config: &Config,
) -> Result<Arc<dyn Cloud>, crate::cloud::CloudError> {
    let options = config.aws_options(&source.overrides);
    let sdk = crate::cloud::aws::load_sdk_config(&options).await?;
    crate::cloud::aws::resolve_credentials(&sdk, options.profile.as_deref()).await?;
    Ok(Arc::new(crate::cloud::aws::AwsCloud::from_sdk_config(&sdk)))
}

/// The embedded store in the user's data directory, so acknowledgements, change counts and
/// checkpoints survive a restart, scoped to the account and region `cloud` watches (its caller
/// identity), so another account's or region's rows are never read. The demo keeps one file
/// per seed (`demo-<seed>.db`): the same seed is the same world, whose alarm episodes its
/// acknowledgements belong to (see [`restore_demo_acks`]).
pub async fn open_store(cloud: &dyn Cloud) -> anyhow::Result<Option<Arc<crate::store::Store>>> {
    let scope = store_scope(cloud).await?;
    open_store_in(cloud, scope)
}

fn open_store_in(
    cloud: &dyn Cloud,
    scope: crate::store::Scope,
) -> anyhow::Result<Option<Arc<crate::store::Store>>> {
    let Some(path) = crate::store::Store::default_path() else {
        return Ok(None);
    };
    let demo = cloud.demo().map(|d| d.seed());
    let path = match demo {
        Some(seed) => path.with_file_name(format!("demo-{seed}.db")),
        None => path,
    };
    let store = crate::store::Store::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?
        .scoped(scope);
    Ok(Some(Arc::new(store)))
}

/// The TUI's store and, when it runs without one, the warning that says so. Read-only
/// writes nothing that matters to the account: a store that cannot be opened (a read-only
/// home, a full disk) costs only what it would remember. An account that does not say who it
/// is yet (GetCallerIdentity fails) runs without one too, as its rows would have no account to
/// be kept under; the sources then show what fails.
pub async fn open_tui_store(
    cloud: &dyn Cloud,
    read_only: bool,
) -> anyhow::Result<(Option<Arc<crate::store::Store>>, Option<String>)> {
    let scope = match store_scope(cloud).await {
        Ok(scope) => scope,
        Err(e) => {
            tracing::warn!("{e:#}; running without the store");
            return Ok((
                None,
                Some(format!(
                    "warning: {e:#}; nothing is remembered this session"
                )),
            ));
        }
    };
    match open_store_in(cloud, scope) {
        Ok(store) => Ok((store, None)),
        Err(e) if read_only => {
            tracing::warn!("{e:#}; read-only runs without it");
            Ok((
                None,
                Some(format!(
                    "warning: {e:#}; read-only runs without it (nothing is remembered)"
                )),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The account and region the store's rows are kept under, from the caller identity (asked
/// once, within [`REACH_TIMEOUT`]).
pub async fn store_scope(cloud: &dyn Cloud) -> anyhow::Result<crate::store::Scope> {
    match tokio::time::timeout(REACH_TIMEOUT, crate::store::Scope::of(cloud)).await {
        Ok(Ok(scope)) => Ok(scope),
        Ok(Err(e)) => anyhow::bail!("cannot tell which account the store is for: {e}"),
        Err(_) => anyhow::bail!(
            "cannot tell which account the store is for: sts GetCallerIdentity gave no answer \
             within {} s",
            REACH_TIMEOUT.as_secs()
        ),
    }
}

/// The demo's account is rebuilt empty on every start, its store is not: the acknowledgements
/// it keeps are written back into the simulated account's table (first wins, as always), so
/// every reader — the TUI, `scan`, `alarms`, the deployed functions — finds them through the
/// same shared path as on AWS. Does nothing on AWS.
pub async fn restore_demo_acks(cloud: &dyn Cloud, table: &str) -> anyhow::Result<()> {
    if cloud.demo().is_none() {
        return Ok(());
    }
    let Some(store) = open_store(cloud).await? else {
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
    /// The AWS profile and region the account was opened with, for the status bar.
    pub profile: Option<String>,
    pub region: Option<String>,
    /// `:profile` and `:region` (`None` on the demo account, which has one of each).
    pub switcher: Option<Arc<dyn Switcher>>,
}

/// `:profile` and `:region` on AWS: the next account is opened as the first was (the same
/// configuration file, `--endpoint-url` and `--read-only`), with the profile or region
/// changed. A region chosen with `--region` or `:region` stays across a `:profile`.
struct AccountSwitcher {
    source: SourceOptions,
    config: Config,
    /// `--theme`: when given, a profile's theme does not replace it.
    theme_flag: Option<String>,
    /// The overrides the account watched now was opened with.
    current: std::sync::Mutex<Overrides>,
}

#[async_trait::async_trait]
impl Switcher for AccountSwitcher {
    async fn open(&self, choice: AccountChoice) -> Result<Connected, String> {
        let mut next = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let profiles = crate::cloud::aws::profiles::shared_profiles();
        let what = match &choice {
            AccountChoice::Profile(p) => {
                if !profiles.contains(p) {
                    return Err(crate::sanitize::clean(&format!(
                        "no profile `{p}` in the shared AWS config or credentials file \
                         (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws); still watching \
                         the account before"
                    )));
                }
                next.profile = Some(p.clone());
                format!("profile {p}")
            }
            AccountChoice::Region(r) => {
                next.region = Some(r.clone());
                format!("region {r}")
            }
        };
        let fail = |e: String| {
            crate::sanitize::clean(&format!(
                "cannot switch to {what}: {e}; still watching the account before"
            ))
        };
        let source = SourceOptions {
            demo: false,
            overrides: next.clone(),
            ..self.source.clone()
        };
        let cloud = open_cloud(&source, &self.config)
            .await
            .map_err(|e| fail(format!("{e:#}")))?;
        let identity = cloud
            .caller_identity()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let read_only = self.config.read_only(&next);
        let theme = match (
            &self.theme_flag,
            self.config
                .profile_settings(&next)
                .and_then(|p| p.theme.clone()),
        ) {
            (None, Some(spec)) => Some(
                Theme::initial(Some(&spec), Theme::no_color_requested())
                    .map_err(|e| fail(e.to_string()))?,
            ),
            _ => None,
        };
        let (store, warning) = open_tui_store(cloud.as_ref(), read_only)
            .await
            .map_err(|e| fail(format!("{e:#}")))?;
        let (events, commands) =
            crate::pipeline::spawn(cloud.clone(), store, self.config.pipeline_config(&next));
        let ticks = spawn_ticks(cloud.clone(), Duration::from_secs(1));
        let info = AccountInfo {
            profile: self
                .config
                .profile_name(&next, std::env::var("AWS_PROFILE").ok().as_deref()),
            region: Some(crate::sanitize::clean(&identity.region)),
            read_only,
            theme,
            profiles,
            warning,
        };
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(Connected {
            info,
            cloud,
            events,
            commands,
            ticks,
        })
    }
}

/// The TUI: `watchband` with no subcommand. Exits 0 on `q`, 128 + the signal's number when a
/// signal ended it (130 for INT, 143 for TERM, 129 for HUP), with the terminal restored.
pub fn run_tui(source: &SourceOptions, ui: &TuiOptions) -> anyhow::Result<std::process::ExitCode> {
    // A bad configuration file is refused before the terminal is touched, so the message
    // stays readable, with its path, line and reason; a bad theme the same way.
    let mut config = Config::load(source.config.as_deref())?;
    if wants_demo(source) {
        // The demo is no AWS profile: no `[profiles.NAME]` applies to it.
        config.profiles.clear();
    }
    let theme_spec = config.theme(&source.overrides, ui.theme.as_deref());
    let theme = Theme::initial(theme_spec.as_deref(), Theme::no_color_requested())?;
    let options = RunOptions {
        read_only: config.read_only(&source.overrides),
        mouse: ui.mouse,
        theme,
        pipeline: config.pipeline_config(&source.overrides),
        record: ui.record.clone(),
        profile: config.profile_name(
            &source.overrides,
            std::env::var("AWS_PROFILE").ok().as_deref(),
        ),
        region: config.aws_options(&source.overrides).region,
        switcher: (!wants_demo(source)).then(|| {
            Arc::new(AccountSwitcher {
                source: source.clone(),
                config: config.clone(),
                theme_flag: ui.theme.clone(),
                current: std::sync::Mutex::new(source.overrides.clone()),
            }) as Arc<dyn Switcher>
        }),
    };
    let rt = runtime()?;
    let ended = rt.block_on(async {
        let cloud = if wants_demo(source) {
            open_demo(source)?
        } else {
            match open_aws(source, &config).await {
                Ok(cloud) => cloud,
                // No account: say so on a screen that offers the demo, never switch silently.
                Err(e)
                    if matches!(
                        e.kind,
                        crate::cloud::ErrorKind::NoCredentials
                            | crate::cloud::ErrorKind::ExpiredCredentials
                    ) =>
                {
                    if !crate::ui::no_account::offer_demo(
                        &e.to_string(),
                        &options.theme,
                        options.mouse,
                    )? {
                        return Ok(None);
                    }
                    open_demo(source)?
                }
                Err(e) => return Err(e.into()),
            }
        };
        run_on(cloud, options).await
    })?;
    // Tasks blocked on the network must not hold the exit.
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(match ended {
        Some(signal) => std::process::ExitCode::from(128 + signal),
        None => std::process::ExitCode::SUCCESS,
    })
}

/// The signals that end the TUI like `q` does (the terminal restored on the way out): TERM
/// (`kill`, a service manager), HUP (the SSH session dropped), INT (`kill -INT`; Ctrl-C itself
/// is a key in raw mode). The handlers are installed when this is called, before the
/// terminal changes mode, so no signal can find the default action in between; the future
/// resolves to the signal's number.
#[cfg(unix)]
fn ending_signal() -> impl std::future::Future<Output = u8> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = handlers else {
            // Without handlers the default actions stay; never end the TUI from here.
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => 15,
            _ = hup.recv() => 1,
            _ = int.recv() => 2,
        }
    }
}

#[cfg(not(unix))]
fn ending_signal() -> impl std::future::Future<Output = u8> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        2
    }
}

/// Runs the TUI on an account in the real terminal. `Ok(Some(n))` when signal `n` ended it.
pub async fn run_on(cloud: Arc<dyn Cloud>, options: RunOptions) -> anyhow::Result<Option<u8>> {
    let config = options.pipeline;
    let mut state = AppState::for_account(
        cloud.as_ref(),
        options.read_only,
        options.theme,
        crate::pipeline::acks::current_user(),
        &config,
    );
    if state.demo.is_none() {
        state.profile = options.profile.clone();
        state.region = options.region.clone();
        state.profiles = crate::cloud::aws::profiles::shared_profiles();
    }
    if Theme::no_color_requested() {
        // We already dropped colours ourselves; keep crossterm from also dropping modifiers.
        crossterm::style::force_color_output(true);
    }
    restore_demo_acks(cloud.as_ref(), &config.ack_table).await?;
    let (store, warning) = open_tui_store(cloud.as_ref(), options.read_only).await?;
    if let Some(warning) = warning {
        state.say(warning);
    }
    // The demo account runs watchband's processors as its deployed functions (on AWS they are
    // Lambda functions the operator deployed from deploy/template.yaml).
    let _functions = cloud
        .demo()
        .is_some()
        .then(|| crate::processors::deployed::spawn(cloud.clone(), Default::default()));
    let (events, commands) = crate::pipeline::spawn(cloud.clone(), store, config);
    let signal = ending_signal();
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
        // The demo has one account and region; the no-account screen's demo too.
        switcher: options.switcher.filter(|_| state.demo.is_none()),
    };
    let (result, ended) = tokio::select! {
        r = event_loop(&mut screen, &mut state, inputs, outputs) => (r, None),
        n = signal => {
            tracing::info!(signal = n, "ending on a signal");
            (Ok(()), Some(n))
        }
    };
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
    // A hung-up terminal cannot be written to; that is not an error worth reporting.
    if ended.is_none() {
        result.context("terminal I/O failed")?;
    }
    Ok(ended)
}
