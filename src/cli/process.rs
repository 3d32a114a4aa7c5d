//! `watchband process ...`: the patterns' processors as local processes, on the same code the
//! Lambda handlers and the demo account run.
//!
//! - `process backups --queue URL [--allow-account ID]... [--dead-letter-queue URL]`: handles
//!   the `Backup Job State Change` events an EventBridge rule delivers to an SQS queue, until
//!   Ctrl-C; one JSON line per event on stdout, one line on stderr per refused event.
//! - `process metric --namespace NS --metric NAME [--dimension K=V]`: one scoring run of the
//!   metric; the report as JSON on stdout.
//! - `process stream --stream NAME [--dead-letter-queue URL]`: the temperature stream
//!   processor over a Kinesis stream, with checkpoints in the embedded store, until Ctrl-C;
//!   with `--lease-table NAME`, shard leases in DynamoDB shared with the other workers on the
//!   stream.

use super::{ProcessCommand, SourceArgs};
use crate::cloud::{Cloud, MetricId};
use crate::config::Config;
use crate::pipeline::changes::ChangeCounter;
use crate::processors::changed_blocks::{BackupProcessor, BackupProcessorConfig, drain_queue};
use crate::processors::metric_scorer::MetricScorerConfig;
use std::process::ExitCode;
use std::sync::Arc;

/// The exit code of a command refused because it would write under `--read-only` (EX_USAGE).
pub const REFUSED_READ_ONLY: u8 = 64;

/// Refuses a command that writes under `--read-only`, or under a profile the configuration
/// file makes read-only (`[profiles.NAME] read_only = true`), saying why; `None` when it may
/// run. A configuration file that does not load is left to the command, which reports it.
pub fn refuse_read_only(source: &SourceArgs, what: &str) -> Option<ExitCode> {
    let why = if source.read_only {
        "under --read-only".to_string()
    } else if source.demo {
        // The demo is no AWS profile: no `[profiles.NAME]` applies to it.
        return None;
    } else {
        let options = source.options();
        let config = crate::config::Config::load(source.config.as_deref()).ok()?;
        if !config.read_only(&options.overrides) {
            return None;
        }
        let env = std::env::var("AWS_PROFILE").ok();
        let profile = config
            .profile_name(&options.overrides, env.as_deref())
            .unwrap_or_else(|| "default".into());
        format!("as profile {profile} is read_only in the configuration file")
    };
    eprintln!(
        "watchband: {what} writes to the account; refused {why} (nothing was read or written)"
    );
    Some(ExitCode::from(REFUSED_READ_ONLY))
}

pub fn run(source: &SourceArgs, command: &ProcessCommand) -> anyhow::Result<ExitCode> {
    // Every processor exists to write (rows, alerts, metrics, queue deletions): under
    // --read-only none runs, rather than a dry run that would still move checkpoints.
    let what = match command {
        ProcessCommand::Backups { .. } => "process backups",
        ProcessCommand::Stream { .. } => "process stream",
        ProcessCommand::Metric { .. } => "process metric",
    };
    if let Some(code) = refuse_read_only(source, what) {
        return Ok(code);
    }
    let config = Config::load(source.config.as_deref())?;
    let rt = crate::session::runtime()?;
    let code = rt.block_on(async {
        let cloud = crate::session::open_cloud(&source.options(), &config).await?;
        match command {
            ProcessCommand::Backups {
                queue,
                allow_account,
                dead_letter_queue,
            } => {
                backups(
                    cloud,
                    &config,
                    queue,
                    allow_account,
                    dead_letter_queue.as_deref(),
                )
                .await
            }
            ProcessCommand::Metric {
                namespace,
                metric,
                dimension,
            } => metric_run(cloud.as_ref(), namespace, metric, dimension).await,
            ProcessCommand::Stream {
                stream,
                lease_table,
                lease_period,
                dead_letter_queue,
            } => {
                let table = lease_table
                    .clone()
                    .or_else(|| config.tables.leases.clone())
                    .filter(|t| !t.is_empty());
                if !(lease_period.is_finite() && *lease_period >= 1.0) {
                    anyhow::bail!("--lease-period takes seconds, at least 1 (got {lease_period})");
                }
                let leases = table.map(|t| (t, std::time::Duration::from_secs_f64(*lease_period)));
                crate::processors::stream::run_stream(
                    cloud,
                    &config,
                    stream,
                    leases,
                    dead_letter_queue.as_deref(),
                )
                .await
            }
        }
    })?;
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(code)
}

async fn backups(
    cloud: Arc<dyn Cloud>,
    config: &Config,
    queue: &str,
    allow_account: &[String],
    dead_letter_queue: Option<&str>,
) -> anyhow::Result<ExitCode> {
    if let Some(bad) = allow_account
        .iter()
        .find(|a| !crate::config::is_account_id(a))
    {
        anyhow::bail!(
            "--allow-account takes an AWS account id (12 digits), not {:?}",
            crate::sanitize::clean(bad)
        );
    }
    let topic = crate::processors::topic_arn(cloud.as_ref(), &config.topics.backup).await?;
    let store = crate::session::open_store(cloud.as_ref()).await?;
    let counter = ChangeCounter::new(cloud.clone(), store);
    let processor = BackupProcessor::new(
        cloud.as_ref(),
        counter,
        BackupProcessorConfig {
            table: config.tables.backup.clone(),
            band_width: config.band_width,
            allow_accounts: config
                .backup_allow_accounts
                .iter()
                .chain(allow_account)
                .cloned()
                .collect(),
            dead_letter_queue: dead_letter_queue.map(str::to_string),
            ..BackupProcessorConfig::new(&topic)
        },
    );
    eprintln!("watchband: processing backup events from {queue} (Ctrl-C stops)");
    let mut handled = 0u64;
    let mut repeats = crate::logging::Repeats::default();
    loop {
        let batch = tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => break,
            batch = drain_queue(&processor, queue, 10, 20) => batch,
        };
        match batch {
            Ok(outcomes) => {
                for o in outcomes {
                    handled += 1;
                    match o.outcome {
                        // Event data goes out as it came, but escaped: serde_json leaves C1
                        // and bidi controls raw.
                        Ok(outcome) => println!(
                            "{}",
                            crate::sanitize::escape_json(
                                &serde_json::json!({"message_id": o.message_id, "result": outcome})
                                    .to_string()
                            )
                        ),
                        Err(e) => eprintln!(
                            "watchband: event {} {}: {}",
                            crate::sanitize::clean(&o.message_id),
                            if o.deleted && dead_letter_queue.is_some() {
                                "dead-lettered"
                            } else if o.deleted {
                                "dropped"
                            } else {
                                "left for redelivery"
                            },
                            crate::sanitize::clean(&e.to_string())
                        ),
                    }
                }
            }
            Err(e) => {
                if let Some(line) = repeats.line(&crate::sanitize::clean(&e.to_string())) {
                    eprintln!("{}", crate::logging::prefixed(&line));
                }
                if !e.kind.is_retryable() {
                    return Ok(ExitCode::from(1));
                }
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }
    if let Some(count) = repeats.finish() {
        eprintln!("{}", crate::logging::prefixed(&count));
    }
    eprintln!(
        "watchband: stopped after {}",
        crate::words::count(handled, "event", "events")
    );
    Ok(ExitCode::SUCCESS)
}

async fn metric_run(
    cloud: &dyn Cloud,
    namespace: &str,
    name: &str,
    dimensions: &[String],
) -> anyhow::Result<ExitCode> {
    let dims = parse_dimensions(dimensions)?;
    let dims_ref: Vec<(&str, &str)> = dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let metric = MetricId::new(namespace, name, &dims_ref);
    let report =
        crate::processors::metric_scorer::run(cloud, &MetricScorerConfig::new(metric)).await?;
    println!(
        "{}",
        crate::sanitize::escape_json(&serde_json::to_string_pretty(&report)?)
    );
    Ok(ExitCode::SUCCESS)
}

/// `K=V` pairs, as `--dimension InstanceId=i-0abc`.
pub fn parse_dimensions(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => anyhow::bail!("--dimension takes NAME=VALUE, not {a:?}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_parse_and_refuse_garbage() {
        assert_eq!(
            parse_dimensions(&["InstanceId=i-1".into()]).unwrap(),
            vec![("InstanceId".to_string(), "i-1".to_string())]
        );
        assert!(parse_dimensions(&["nope".into()]).is_err());
        assert!(parse_dimensions(&["=v".into()]).is_err());
    }
}
