//! `watchband ack ALARM_NAME [--note TEXT] [--snooze MINUTES]` and `watchband alarms [--json]`:
//! acknowledgements from scripts and chat-ops, through the same shared table, local cache and
//! identity as the TUI (`pipeline::acks`).
//!
//! Exit codes of `ack`: 0 acknowledged and shared, 1 error (also: kept on this machine only,
//! because the table could not be reached), 3 already acknowledged by someone else (who, when
//! and the note on stderr). `alarms`: 0, or 1 on error.

use crate::cli::SourceArgs;
use crate::cloud::{AlarmFilter, Time};
use crate::pipeline::acks::{AckResult, refusal};
use crate::pipeline::{AlarmView, Source};
use crate::session;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;

/// "Already acknowledged by someone else".
pub const EXIT_TAKEN: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct AckArgs {
    /// The alarm's name (it must be in ALARM).
    pub alarm_name: String,
    /// A note for the team ("looking at it").
    #[arg(long)]
    pub note: Option<String>,
    /// Hide the alarm's re-notifications in watchband for this many minutes.
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..))]
    pub snooze: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One alarm as `watchband alarms` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmLine {
    pub name: String,
    pub arn: String,
    /// "OK", "ALARM" or "INSUFFICIENT_DATA".
    pub state: String,
    /// When it entered its state.
    pub since: Time,
    /// The ALARM episode (when it entered ALARM); None outside ALARM.
    pub episode: Option<Time>,
    pub acknowledgement: Option<AckLine>,
    /// Re-notifications hidden until then.
    pub snoozed_until: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckLine {
    /// The caller identity ARN of whoever acknowledged.
    pub who: String,
    pub at: Time,
    pub note: Option<String>,
    pub snooze_until: Option<Time>,
    /// False when made on this machine while the table was unreachable.
    pub shared: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmsReport {
    /// "demo" or "aws".
    pub account: String,
    pub alarms: Vec<AlarmLine>,
}

fn line(a: &AlarmView) -> AlarmLine {
    let in_alarm = a.state == crate::cloud::AlarmState::Alarm;
    AlarmLine {
        name: a.definition.name.clone(),
        arn: a.arn.clone(),
        state: a.state.as_aws().to_string(),
        since: a.state_updated,
        episode: in_alarm.then_some(a.state_updated),
        acknowledgement: a.acknowledgement.as_ref().map(|k| AckLine {
            who: k.who.clone(),
            at: k.at,
            note: k.note.clone(),
            snooze_until: k.snooze_until,
            shared: k.shared,
        }),
        snoozed_until: a.snoozed_until,
    }
}

/// The table form: one alarm per line, the acknowledgement's who, when and note.
pub fn table(r: &AlarmsReport) -> String {
    let mut out = format!(
        "{:<18} {:<48} {:<20} {}\n",
        "STATE", "NAME", "SINCE", "ACKNOWLEDGED"
    );
    for a in &r.alarms {
        let ack = match (&a.acknowledgement, a.snoozed_until) {
            (Some(k), _) => format!(
                "by {} at {}{}{}",
                k.who,
                k.at.format("%Y-%m-%d %H:%M:%S"),
                k.note
                    .as_ref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default(),
                if k.shared { "" } else { " (not shared yet)" }
            ),
            (None, Some(t)) => format!("snoozed until {}", t.format("%Y-%m-%d %H:%M")),
            (None, None) if a.episode.is_some() => "no".into(),
            (None, None) => "-".into(),
        };
        out.push_str(&format!(
            "{:<18} {:<48} {:<20} {ack}\n",
            a.state,
            a.name,
            a.since.format("%Y-%m-%d %H:%M:%S").to_string()
        ));
    }
    out
}

/// Opens the account and the store as the TUI does, and the pipeline's context on them.
async fn open(
    source: &SourceArgs,
) -> anyhow::Result<(
    std::sync::Arc<dyn crate::cloud::Cloud>,
    std::sync::Arc<crate::pipeline::Ctx>,
)> {
    let file = crate::config::Config::load(source.config.as_deref())?;
    let options = source.options();
    let cloud = session::open_cloud(&options, &file).await?;
    let config = file.pipeline_config(&options.overrides);
    session::restore_demo_acks(cloud.as_ref(), &config.ack_table).await?;
    let store = session::open_store(cloud.as_ref()).await?;
    let ctx = crate::pipeline::headless(cloud.clone(), store, config);
    Ok((cloud, ctx))
}

pub fn run_ack(args: &AckArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let rt = session::runtime()?;
    let code = rt.block_on(async {
        let (cloud, ctx) = open(source).await?;
        let snooze_until = args
            .snooze
            .map(|m| cloud.now() + chrono::Duration::minutes(m.into()));
        let name = &args.alarm_name;
        match crate::pipeline::acks::ack(&ctx, name, args.note.clone(), snooze_until).await {
            Ok(AckResult::Shared(ack)) => {
                println!("{} acknowledged by {}", ack.alarm_name, ack.who);
                if let Err(failed) = crate::pipeline::acks::announce(&ctx, name, &ack).await {
                    eprintln!("watchband: acknowledged, but the announcement failed on {failed}");
                }
                Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
            }
            Ok(AckResult::Taken(first)) => {
                eprintln!(
                    "watchband: {} is already {}",
                    crate::sanitize::clean(name),
                    refusal(&first, cloud.now())
                );
                Ok(ExitCode::from(EXIT_TAKEN))
            }
            Ok(AckResult::NotShared(_, why)) => {
                eprintln!(
                    "watchband: {} acknowledged on this machine only, not shared yet ({why}); \
                     the next watchband that reaches the table shares it",
                    crate::sanitize::clean(name)
                );
                Ok(ExitCode::from(1))
            }
            Err(e) => {
                eprintln!("watchband: {e}");
                Ok(ExitCode::from(1))
            }
        }
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(code)
}

pub fn run_alarms(args: &AlarmsArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let rt = session::runtime()?;
    let report = rt.block_on(async {
        let (cloud, ctx) = open(source).await?;
        let alarms = ctx
            .call(Source::Alarms, || {
                cloud.describe_alarms(AlarmFilter::default())
            })
            .await?;
        let mut lines = Vec::with_capacity(alarms.len());
        for a in &alarms {
            lines.push(line(&crate::pipeline::alarms::view(&ctx, a).await));
        }
        lines.sort_by(|a, b| a.name.cmp(&b.name));
        Ok::<_, anyhow::Error>(AlarmsReport {
            account: cloud.kind().to_string(),
            alarms: lines,
        })
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(ExitCode::SUCCESS)
}
