//! Command-line parsing and dispatch: the TUI by default, plus the headless commands.
//!
//! Exit codes (all commands, [`EXIT_CODES`]): 0 success / nothing anomalous, 1 error, 2
//! something anomalous (`scan`, `detect --input`), 64 usage error (EX_USAGE), 128+n ended by signal n.
//! A usage error has its own code so a script never mistakes a typo for "anomalies found".

pub mod acks;
pub mod detect;
pub mod generate;
pub mod process;
pub mod scan;
pub mod shell;
pub mod tape;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit codes, as `--help` and the README show them.
pub const EXIT_CODES: &str = "Exit codes:\n  \
     0   ok, nothing anomalous\n  \
     1   error (one line on stderr: what failed and what to do)\n  \
     2   anomalies found (scan, detect --input)\n  \
     3   already acknowledged by someone else (ack; who on stderr)\n  \
     64  usage error (unknown option, bad value)\n  \
     128+n ended by signal n (130 INT, 143 TERM, 129 HUP)\n\
     Credentials come from the AWS default chain; with no AWS account, run `watchband --demo`.";

/// EX_USAGE from sysexits.h.
pub const EXIT_USAGE: u8 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "watchband",
    version,
    about = "Watch for anomalies in an AWS estate: backups, Kinesis streams, CloudWatch metrics and alarms",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Log file (default: watchband.log in the state directory, ~/.local/state/watchband/);
    /// level from WATCHBAND_LOG or RUST_LOG (`debug`, `warn,watchband=debug`; default info).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the data comes from: the embedded demo account or AWS.
#[derive(Debug, Clone, Args, Default)]
pub struct SourceArgs {
    /// Run on the embedded simulated account (no AWS account needed).
    #[arg(long, global = true)]
    pub demo: bool,
    /// Seed of the simulated world (same seed, same world).
    #[arg(long, global = true, default_value_t = 7)]
    pub seed: u64,
    /// Simulated seconds per real second in the demo (default: one hour per second).
    #[arg(long, global = true, default_value_t = 3600.0)]
    pub speed: f64,
    /// Inject faults in the demo: none, throttle, flaky, expired, dropped, chaos.
    #[arg(long, global = true, default_value = "none")]
    pub faults: String,
    /// AWS profile from the shared config files.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// An AWS-compatible endpoint (LocalStack, moto); also AWS_ENDPOINT_URL.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Configuration file (default: watchband/config.toml in the user's config directory).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Refuse every mutating action (backups, alarm creation, acknowledgements).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Publish BACKUP_CHANGED_BLOCKS for volumes no function processes yet.
    #[arg(long, global = true)]
    pub publish: bool,
}

impl SourceArgs {
    /// The plain options the rest of watchband takes.
    pub fn options(&self) -> crate::session::SourceOptions {
        crate::session::SourceOptions {
            demo: self.demo,
            seed: self.seed,
            speed: self.speed,
            faults: self.faults.clone(),
            config: self.config.clone(),
            overrides: crate::config::Overrides {
                profile: self.profile.clone(),
                region: self.region.clone(),
                endpoint_url: self.endpoint_url.clone(),
                read_only: self.read_only,
                publish: self.publish,
            },
        }
    }
}

/// How the TUI looks and behaves.
#[derive(Debug, Clone, Args, Default)]
pub struct UiArgs {
    /// Theme name (themes/*.toml or the config directory) or a path to a theme file.
    #[arg(long)]
    pub theme: Option<String>,
    /// Capture the mouse (off by default so terminal selection keeps working).
    #[arg(long)]
    pub mouse: bool,
    /// Record the session as an asciicast v2 file.
    #[arg(long, value_name = "FILE.cast")]
    pub record: Option<PathBuf>,
}

impl UiArgs {
    /// The plain options the TUI takes.
    pub fn options(&self) -> crate::session::TuiOptions {
        crate::session::TuiOptions {
            theme: self.theme.clone(),
            mouse: self.mouse,
            record: self.record.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score a CSV series (timestamp,value) or a whole NAB-layout tree with the detection core.
    #[command(
        after_help = "Exit codes: 0 no row flagged, 2 at least one row flagged anomalous (--input), 1 error.\n\
                      With --nab: 0 once every file is scored (NAB's scorer picks the threshold).\n\
                      --set KEY=VALUE overrides the detector configuration, e.g. --set auto.history=2000."
    )]
    Detect(DetectArgs),
    /// One pass over volumes and streams; exit 2 when something is anomalous.
    #[command(
        after_help = "Exit codes: 0 nothing anomalous, 2 something anomalous, 1 error (message on stderr), 64 usage error.\n\
                      JSON output: docs/scan.schema.json."
    )]
    Scan(ScanArgs),
    /// Publish temperature records to a Kinesis stream.
    #[command(
        after_help = "Stops on Ctrl-C or after --count records and prints how many were sent.\n\
                      Refused under --read-only (exit 64): its only purpose is to write records.\n\
                      Exit codes: 0 every record sent, 1 error or records that could not be sent,\n\
                      64 refused (--read-only)."
    )]
    Generate(GenerateArgs),
    /// Run a scripted walkthrough headlessly on the demo account and write its recording.
    #[command(
        after_help = "Same tape + same --seed and --speed => byte-identical outputs (virtual clock).\n\
                      Exit codes: 0 written, 1 error (a bad tape names its line)."
    )]
    Tape(TapeArgs),
    /// Run one of the patterns' processors locally.
    #[command(subcommand)]
    Process(ProcessCommand),
    /// Acknowledge an alarm's current ALARM episode for the team (shared table).
    #[command(
        after_help = "Exit codes: 0 acknowledged, 1 error (or kept on this machine only: the table \
                      was unreachable), 3 already acknowledged by someone else (who on stderr)."
    )]
    Ack(acks::AckArgs),
    /// The alarms with state, since, episode and acknowledgement (who, when, note).
    #[command(after_help = "Exit codes: 0 listed, 1 error.")]
    Alarms(acks::AlarmsArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "bash: watchband completions bash > ~/.local/share/bash-completion/completions/watchband\n\
                      zsh:  watchband completions zsh > \"${fpath[1]}/_watchband\"\n\
                      fish: watchband completions fish > ~/.config/fish/completions/watchband.fish"
    )]
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --dir.
    #[command(after_help = "Read it with: watchband man | man -l -")]
    Man(shell::ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgoArg {
    Auto,
    Band,
    Rcf,
    Rule,
    Cad,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// A CSV file with `timestamp,value` rows.
    #[arg(long, conflicts_with = "nab")]
    pub input: Option<PathBuf>,
    /// A NAB-layout tree: DIR/<category>/<file>.csv.
    #[arg(long)]
    pub nab: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub algo: AlgoArg,
    /// Output CSV (with --input; default stdout) or directory (with --nab).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Override one detector setting (dotted path into the configuration, JSON value);
    /// repeatable. Used by the NAB cross-validation (`benches/nab_cv.py`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Kinesis stream to publish to.
    #[arg(long, default_value = crate::interop::TEMPERATURE_STREAM)]
    pub stream: String,
    /// Records per second.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Number of devices (DHT_001 ...).
    #[arg(long, default_value_t = 4)]
    pub devices: u32,
    /// Probability that a record is a hot/cold anomaly.
    #[arg(long, default_value_t = 0.01)]
    pub anomalies: f64,
    /// Stop after this many records (default: until Ctrl-C).
    #[arg(long)]
    pub count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct TapeArgs {
    /// The tape file (VHS subset).
    pub tape: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ProcessCommand {
    /// Backup processor fed by an SQS queue that an EventBridge rule targets.
    #[command(
        after_help = "Refused under --read-only (exit 64): it writes the table, metrics, alarms and\n\
                      alerts, and deletes the queue's messages. Stops on Ctrl-C (exit 0).\n\
                      An event is refused, writing nothing, unless its volume is in this region and\n\
                      account (or an allowed one) and its snapshot is one of the volume's recovery\n\
                      points; the table follows the snapshots' creation dates (docs/pipeline.md)."
    )]
    Backups {
        #[arg(long)]
        queue: String,
        /// Also count volumes of this account (cross-account backup); repeatable. Added to
        /// the configuration's `backup_allow_accounts`.
        #[arg(long = "allow-account", value_name = "ID")]
        allow_account: Vec<String>,
        /// Send each refused event (with the reason) to this SQS queue before deleting it.
        #[arg(long, value_name = "URL")]
        dead_letter_queue: Option<String>,
    },
    /// Stream processor over a Kinesis stream.
    #[command(
        after_help = "Writes the anomaly table and publishes alerts; checkpoints in the local store, or\n\
                      in shard leases shared with other workers (--lease-table).\n\
                      Refused under --read-only (exit 64). On Ctrl-C or SIGTERM it finishes the\n\
                      record in hand, checkpoints, hands its shard leases back, prints its totals as\n\
                      JSON and exits 130 (SIGINT) or 143 (SIGTERM). Delivery guarantee:\n\
                      docs/pipeline.md."
    )]
    Stream {
        #[arg(long, default_value = crate::interop::TEMPERATURE_STREAM)]
        stream: String,
        /// DynamoDB table of shard leases shared by the workers on this stream (created when
        /// missing); without it (and without `tables.leases` in the configuration) this
        /// process reads every shard, with checkpoints in the local store.
        #[arg(long, value_name = "NAME")]
        lease_table: Option<String>,
        /// Seconds a lease lasts unrenewed, as the other workers see it: a dead worker's
        /// shards are taken over 1 to 1.33 periods after it died (renewals every third).
        #[arg(long, value_name = "SECS", default_value_t = 10.0)]
        lease_period: f64,
        /// Send each rejected record (stream, shard, sequence number, reason, its bytes in
        /// base64) to this SQS queue; a record is checkpointed only once it is there.
        #[arg(long, value_name = "URL")]
        dead_letter_queue: Option<String>,
    },
    /// Metric scorer (Random Cut Forest) writing <Metric>AnomalyIndicator.
    #[command(
        after_help = "Refused under --read-only (exit 64): it writes metric data and its state."
    )]
    Metric {
        #[arg(long)]
        namespace: String,
        #[arg(long)]
        metric: String,
        /// K=V, repeatable.
        #[arg(long)]
        dimension: Vec<String>,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else clap refuses is a usage
            // error, and its code must differ from "anomalies found".
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match crate::logging::init(cli.log_file.as_deref()) {
        Ok(_) => {}
        // An explicit --log-file that cannot be written is refused; a default one that cannot
        // be is only worth a warning (a read-only home still runs, without a log).
        Err(e) if cli.log_file.is_some() => {
            eprintln!("watchband: {e:#}");
            return ExitCode::from(1);
        }
        Err(e) => eprintln!("watchband: warning: no log: {e:#}"),
    }
    let result = match cli.command {
        None => crate::session::run_tui(&cli.source.options(), &cli.ui.options()),
        Some(Command::Detect(args)) => detect::run(&args),
        Some(Command::Process(command)) => process::run(&cli.source, &command),
        Some(Command::Tape(args)) => tape::run(&args, &cli.source),
        Some(Command::Scan(args)) => scan::run(&args, &cli.source),
        Some(Command::Generate(args)) => generate::run_cli(&args, &cli.source),
        Some(Command::Ack(args)) => acks::run_ack(&args, &cli.source),
        Some(Command::Alarms(args)) => acks::run_alarms(&args, &cli.source),
        Some(Command::Completions(args)) => shell::run_completions(&args),
        Some(Command::Man(args)) => shell::run_man(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("watchband: {e:#}");
            ExitCode::from(1)
        }
    }
}
