//! The configuration file: `watchband/config.toml` in the user's config directory (or
//! `--config FILE`), holding what the AWS configuration chain does not — the backup tag key,
//! vault and role, the topics, streams, tables, metric list and namespaces to watch.
//!
//! Every key is optional and defaults to the patterns' names, so an operator who runs seed
//! 001 or 003 as deployed needs no file at all. A file that does not parse, has an unknown key
//! or a value out of range is refused with its path, the line and the reason.

use crate::cloud::MetricId;
use crate::cloud::aws::AwsOptions;
use crate::interop;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}:{line}: {reason} — fix or remove the line (see docs/aws.md)")]
    Invalid {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// One metric to watch with an anomaly band.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default = "default_stat")]
    pub stat: String,
    #[serde(default = "default_period")]
    pub period: i32,
}

impl MetricConfig {
    pub fn metric_id(&self) -> MetricId {
        let dims: Vec<(&str, &str)> = self
            .dimensions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        MetricId::new(&self.namespace, &self.name, &dims)
    }
}

fn default_stat() -> String {
    "Average".into()
}
fn default_period() -> i32 {
    300
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Topics {
    /// The changed-block pipeline's alarm topic (name or ARN).
    pub backup: String,
    /// The temperature pipeline's alert topic.
    pub temperature: String,
    /// Where acknowledgements are published; the backup topic when absent.
    pub acknowledgements: Option<String>,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            backup: interop::BACKUP_TOPIC_NAME.into(),
            temperature: interop::TEMPERATURE_TOPIC.into(),
            acknowledgements: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tables {
    pub backup: String,
    pub temperature: String,
    /// Where a team's watchbands share acknowledgements.
    pub acknowledgements: String,
    /// Shard leases of `process stream` (`--lease-table` wins); none: one worker, checkpoints
    /// in the local store.
    pub leases: Option<String>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            backup: interop::BACKUP_TABLE.into(),
            temperature: interop::TEMPERATURE_TABLE.into(),
            acknowledgements: interop::ACK_TABLE.into(),
            leases: None,
        }
    }
}

/// `[aws]`: defaults for the connection; command-line flags and the SDK's environment win.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Volumes carrying this tag key are backed up and watched (value ignored).
    pub tag_key: String,
    /// The backup vault for on-demand backups.
    pub vault: String,
    /// The IAM role AWS Backup assumes for on-demand backups.
    pub backup_role: Option<String>,
    /// Width of the anomaly band, in standard deviations.
    pub band_width: f64,
    pub topics: Topics,
    pub tables: Tables,
    /// Kinesis streams to consume.
    pub streams: Vec<String>,
    /// CloudWatch namespaces offered in the metric browser.
    pub namespaces: Vec<String>,
    /// Metrics watched with a band from the start.
    pub metrics: Vec<MetricConfig>,
    pub aws: AwsSection,
    /// Accounts whose volumes the backup processor counts besides its own (cross-account
    /// backup); `process backups --allow-account` adds to them.
    pub backup_allow_accounts: Vec<String>,
    /// `[profiles.NAME]`: settings that apply while watchband runs with that AWS profile.
    pub profiles: BTreeMap<String, ProfileSettings>,
}

/// `[profiles.NAME]`: what changes with the AWS profile, applied at start and on `:profile`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    /// `true` refuses every mutating action under this profile. It can only make watchband
    /// stricter: `false` does not undo `--read-only`.
    pub read_only: Option<bool>,
    /// The region used with this profile unless `--region` (or `:region`) names one.
    pub region: Option<String>,
    /// The theme used with this profile unless `--theme` names one.
    pub theme: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tag_key: interop::DEFAULT_BACKUP_TAG_KEY.into(),
            vault: "Default".into(),
            backup_role: None,
            band_width: 2.0,
            topics: Topics::default(),
            tables: Tables::default(),
            streams: vec![interop::TEMPERATURE_STREAM.into()],
            namespaces: vec![interop::BACKUP_NAMESPACE.into()],
            metrics: Vec::new(),
            aws: AwsSection::default(),
            backup_allow_accounts: Vec::new(),
            profiles: BTreeMap::new(),
        }
    }
}

/// An AWS account id: exactly 12 digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What the command line says over the configuration file: plain options, so that nothing
/// below the command line depends on how arguments are parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Refuse every mutating action.
    pub read_only: bool,
    /// Publish `BACKUP_CHANGED_BLOCKS` for volumes no function processes yet.
    pub publish: bool,
}

impl Config {
    /// `watchband/config.toml` in the user's config directory (`~/.config` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("watchband").join("config.toml"))
    }

    /// Loads `explicit` (which must exist), else the default file when there is one, else
    /// the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match Self::default_path().filter(|p| p.is_file()) {
                Some(p) => p,
                None => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path)
    }

    /// Parses and checks a file's text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        config.check(text, path)?;
        Ok(config)
    }

    fn check(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let fail = |at: &[Step], reason: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_value(text, at),
            reason,
        };
        if self.tag_key.trim().is_empty() {
            return Err(fail(
                &[Step::Key("tag_key")],
                "tag_key must not be empty".into(),
            ));
        }
        if !(self.band_width.is_finite() && self.band_width > 0.0) {
            return Err(fail(
                &[Step::Key("band_width")],
                format!(
                    "band_width must be a positive number, not {}",
                    self.band_width
                ),
            ));
        }
        if let Some(role) = &self.backup_role
            && !role.starts_with("arn:")
        {
            return Err(fail(
                &[Step::Key("backup_role")],
                format!(
                    "backup_role must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), not {role:?}"
                ),
            ));
        }
        for (i, m) in self.metrics.iter().enumerate() {
            let at = |key| [Step::Key("metrics"), Step::Index(i), Step::Key(key)];
            if m.namespace.is_empty() || m.name.is_empty() {
                let empty = if m.namespace.is_empty() {
                    "namespace"
                } else {
                    "name"
                };
                return Err(fail(
                    &at(empty),
                    "a metric needs a namespace and a name".into(),
                ));
            }
            // CloudWatch periods: 1, 5, 10, 30 (high resolution) or a multiple of 60.
            if !(matches!(m.period, 1 | 5 | 10 | 30) || (m.period > 0 && m.period % 60 == 0)) {
                return Err(fail(
                    &at("period"),
                    format!(
                        "period {} of {} is not 1, 5, 10, 30 or a multiple of 60",
                        m.period, m.name
                    ),
                ));
            }
        }
        for (i, account) in self.backup_allow_accounts.iter().enumerate() {
            if !is_account_id(account) {
                return Err(fail(
                    &[Step::Key("backup_allow_accounts"), Step::Index(i)],
                    format!("{account:?} is not an AWS account id (12 digits)"),
                ));
            }
        }
        if self.tables.acknowledgements.trim().is_empty() {
            return Err(fail(
                &[Step::Key("tables"), Step::Key("acknowledgements")],
                "the acknowledgements table name must not be empty".into(),
            ));
        }
        if let Some(url) = &self.aws.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(fail(
                &[Step::Key("aws"), Step::Key("endpoint_url")],
                format!("endpoint_url must be an http(s) URL, not {url:?}"),
            ));
        }
        for (name, p) in &self.profiles {
            let at = |key| {
                [
                    Step::Key("profiles"),
                    Step::Key(name.as_str()),
                    Step::Key(key),
                ]
            };
            if let Some(region) = &p.region
                && !is_region_name(region)
            {
                return Err(fail(
                    &at("region"),
                    format!(
                        "profiles.{name}.region must be a region name like eu-west-1, not {region:?}"
                    ),
                ));
            }
            if p.theme.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return Err(fail(
                    &at("theme"),
                    format!("profiles.{name}.theme must name a theme or a theme file"),
                ));
            }
        }
        Ok(())
    }

    /// The AWS profile watchband runs with: `--profile`, else this file's `[aws] profile`,
    /// else `AWS_PROFILE` as the SDK reads it (`env_profile`); `None` is the SDK's default.
    pub fn profile_name(&self, overrides: &Overrides, env_profile: Option<&str>) -> Option<String> {
        overrides
            .profile
            .clone()
            .or_else(|| self.aws.profile.clone())
            .or_else(|| env_profile.filter(|p| !p.is_empty()).map(String::from))
    }

    /// The `[profiles.NAME]` settings of the profile watchband runs with (`default` when no
    /// profile is named, as the SDK does).
    pub fn profile_settings(&self, overrides: &Overrides) -> Option<&ProfileSettings> {
        let env = std::env::var("AWS_PROFILE").ok();
        let name = self
            .profile_name(overrides, env.as_deref())
            .unwrap_or_else(|| "default".into());
        self.profiles.get(&name)
    }

    /// `--read-only`, made stricter by the profile's `read_only = true` (never looser).
    pub fn read_only(&self, overrides: &Overrides) -> bool {
        overrides.read_only
            || self
                .profile_settings(overrides)
                .and_then(|p| p.read_only)
                .unwrap_or(false)
    }

    /// The theme to start with: `--theme` first, then the profile's.
    pub fn theme(&self, overrides: &Overrides, flag: Option<&str>) -> Option<String> {
        flag.map(String::from).or_else(|| {
            self.profile_settings(overrides)
                .and_then(|p| p.theme.clone())
        })
    }

    /// The connection options: command-line flags first, then the profile's settings, then
    /// this file's `[aws]` section; the SDK's own sources (environment, shared profile) fill
    /// in the rest.
    pub fn aws_options(&self, overrides: &Overrides) -> AwsOptions {
        let settings = self.profile_settings(overrides);
        AwsOptions {
            profile: overrides
                .profile
                .clone()
                .or_else(|| self.aws.profile.clone()),
            region: overrides
                .region
                .clone()
                .or_else(|| settings.and_then(|p| p.region.clone()))
                .or_else(|| self.aws.region.clone()),
            endpoint_url: overrides
                .endpoint_url
                .clone()
                .or_else(|| self.aws.endpoint_url.clone()),
        }
    }

    /// What the pipeline watches and how, from this file and the command line.
    pub fn pipeline_config(&self, overrides: &Overrides) -> crate::pipeline::PipelineConfig {
        let mut topics = vec![self.topics.temperature.clone()];
        if let Some(acks) = &self.topics.acknowledgements {
            topics.push(acks.clone());
        }
        crate::pipeline::PipelineConfig {
            tag_key: self.tag_key.clone(),
            vault: self.vault.clone(),
            backup_role: self.backup_role.clone().unwrap_or_default(),
            backup_topic: self.topics.backup.clone(),
            topics,
            streams: self.streams.clone(),
            ack_table: self.tables.acknowledgements.clone(),
            metrics: self
                .metrics
                .iter()
                .map(|m| crate::pipeline::WatchedMetric {
                    metric: m.metric_id(),
                    stat: m.stat.clone(),
                    period: m.period,
                })
                .collect(),
            band_width: self.band_width,
            publish: overrides.publish,
            read_only: self.read_only(overrides),
            ..crate::pipeline::PipelineConfig::default()
        }
    }

    /// The topic acknowledgements go to.
    pub fn acknowledgement_topic(&self) -> &str {
        self.topics
            .acknowledgements
            .as_deref()
            .unwrap_or(&self.topics.backup)
    }
}

/// `eu-west-1`, `us-gov-east-1`, `cn-north-1`: lowercase words and a number joined by dashes.
/// The one check of a region name: the configuration file's and `:region`'s.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// One step on the way to a value in the file: a key of a table, or an element of an array
/// (a `[[metrics]]` block).
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// 1-based line of the value at `at`, found through the parser's spans so that an error in the
/// second `[[metrics]]` block names that block's line; when part of the way is missing from
/// the file (a default was used), the line of the deepest part that is there.
fn line_of_value(text: &str, at: &[Step]) -> usize {
    use toml::de::{DeTable, DeValue};
    // `text` already parsed once into a `Config`, so it parses here too.
    let Ok(root) = DeTable::parse(text) else {
        return 1;
    };
    let mut span = root.span();
    let mut value: Option<&DeValue> = None;
    let mut table = Some(root.get_ref());
    for step in at {
        let next = match (step, value) {
            (Step::Key(k), _) => table.and_then(|t| t.get(*k)),
            (Step::Index(i), Some(DeValue::Array(a))) => a.get(*i),
            (Step::Index(_), _) => None,
        };
        let Some(next) = next else { break };
        span = next.span();
        value = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    line_of(text, span.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/home/op/.config/watchband/config.toml"))
    }

    #[test]
    fn an_empty_file_gives_the_patterns_names() {
        let c = parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.tag_key, "backup");
        assert_eq!(c.topics.backup, "backup-anomaly-alerts");
        assert_eq!(c.tables.temperature, "m03p02_anomaly_data");
        assert_eq!(c.tables.acknowledgements, "watchband-acknowledgements");
        let named = parse("[tables]\nacknowledgements = \"team-acks\"\n").unwrap();
        assert_eq!(
            named.pipeline_config(&Overrides::default()).ack_table,
            "team-acks"
        );
        assert_eq!(c.acknowledgement_topic(), "backup-anomaly-alerts");
        // No lease table unless one is named: `process stream` is then a single worker.
        assert_eq!(c.tables.leases, None);
        let leased = parse("[tables]\nleases = \"watchband-leases\"\n").unwrap();
        assert_eq!(leased.tables.leases.as_deref(), Some("watchband-leases"));
    }

    #[test]
    fn a_full_file_is_read() {
        let c = parse(
            r#"
tag_key = "nightly"
vault = "prod-vault"
backup_role = "arn:aws:iam::123456789012:role/backup"
band_width = 3
streams = ["m03p02_raw_data_stream", "other"]
namespaces = ["BACKUP", "AWS/EC2"]

[topics]
acknowledgements = "arn:aws:sns:eu-west-1:123456789012:acks"

[aws]
profile = "ops"
region = "eu-west-1"

[[metrics]]
namespace = "AWS/EC2"
name = "CPUUtilization"
dimensions = { InstanceId = "i-0abc" }
period = 60
"#,
        )
        .unwrap();
        assert_eq!(c.tag_key, "nightly");
        assert_eq!(c.band_width, 3.0);
        assert_eq!(c.streams.len(), 2);
        assert_eq!(
            c.acknowledgement_topic(),
            "arn:aws:sns:eu-west-1:123456789012:acks"
        );
        assert_eq!(c.topics.backup, "backup-anomaly-alerts");
        assert_eq!(c.metrics[0].stat, "Average");
        assert_eq!(
            c.metrics[0].metric_id(),
            MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-0abc")])
        );
        let overrides = Overrides {
            region: Some("us-east-2".into()),
            ..Default::default()
        };
        let o = c.aws_options(&overrides);
        assert_eq!(o.region.as_deref(), Some("us-east-2"));
        assert_eq!(o.profile.as_deref(), Some("ops"));
    }

    #[test]
    fn a_syntax_error_names_path_and_line() {
        let e = parse("tag_key = \"a\"\nvault = \n").unwrap_err();
        let ConfigError::Invalid { path, line, reason } = &e else {
            panic!("{e}")
        };
        assert!(path.ends_with("watchband/config.toml"));
        assert_eq!(*line, 2, "{reason}");
        assert!(e.to_string().contains("config.toml:2:"), "{e}");
    }

    #[test]
    fn backup_allow_accounts_take_account_ids_only() {
        let c = parse("backup_allow_accounts = [\"210987654321\"]\n").unwrap();
        assert_eq!(c.backup_allow_accounts, vec!["210987654321".to_string()]);
        let e = parse("tag_key = \"b\"\nbackup_allow_accounts = [\"2109876\"]\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { line: 2, reason, .. } if reason.contains("12 digits")),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused_on_its_line() {
        let e = parse("tag_key = \"a\"\n\ntopcs = 3\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { line: 3, reason, .. } if reason.contains("topcs")),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_values_are_refused_on_their_line() {
        let e = parse("vault = \"v\"\nband_width = -1\n").unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { line: 2, .. }), "{e}");
        let e = parse("[[metrics]]\nnamespace = \"AWS/EC2\"\nname = \"CPU\"\nperiod = 45\n")
            .unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { line: 4, .. }), "{e}");
        let e = parse("backup_role = \"backup\"\n").unwrap_err();
        assert!(e.to_string().contains("IAM role ARN"), "{e}");
    }

    #[test]
    fn an_error_in_the_second_metrics_block_names_its_own_line() {
        // A search for the first `period =` would name line 4, the first block's.
        let text = "[[metrics]]\nnamespace = \"AWS/EC2\"\nname = \"CPU\"\nperiod = 60\n\n\
                    [[metrics]]\nnamespace = \"AWS/EBS\"\nname = \"VolumeIdleTime\"\nperiod = 45\n";
        let e = parse(text).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { line: 9, reason, .. } if reason.contains("VolumeIdleTime")),
            "{e}"
        );
        let text = "[[metrics]]\nnamespace = \"AWS/EC2\"\nname = \"CPU\"\n\n\
                    [[metrics]]\nnamespace = \"AWS/EBS\"\nname = \"\"\n";
        let e = parse(text).unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { line: 7, .. }), "{e}");
        // A key inside a table.
        let text = "[[metrics]]\nnamespace = \"AWS/EC2\"\nname = \"CPU\"\n\n\
                    [aws]\nendpoint_url = \"localhost:5000\"\n";
        let e = parse(text).unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { line: 6, .. }), "{e}");
    }

    #[test]
    fn a_profile_s_settings_apply_when_it_is_the_profile() {
        let c = parse(
            "[aws]\nregion = \"us-east-1\"\n\n\
             [profiles.prod]\nread_only = true\nregion = \"eu-west-1\"\ntheme = \"high-contrast\"\n\n\
             [profiles.dev]\nread_only = false\n",
        )
        .unwrap();
        let prod = Overrides {
            profile: Some("prod".into()),
            ..Default::default()
        };
        assert_eq!(c.aws_options(&prod).region.as_deref(), Some("eu-west-1"));
        assert!(c.read_only(&prod));
        assert!(c.pipeline_config(&prod).read_only);
        assert_eq!(c.theme(&prod, None).as_deref(), Some("high-contrast"));
        // The flags win over the profile's region and theme.
        let flagged = Overrides {
            region: Some("ap-south-1".into()),
            ..prod.clone()
        };
        assert_eq!(
            c.aws_options(&flagged).region.as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(c.theme(&flagged, Some("dark")).as_deref(), Some("dark"));
        // A profile's `read_only = false` never undoes --read-only.
        let dev = Overrides {
            profile: Some("dev".into()),
            read_only: true,
            ..Default::default()
        };
        assert!(c.read_only(&dev));
        assert!(!c.read_only(&Overrides {
            read_only: false,
            ..dev.clone()
        }));
        assert_eq!(c.aws_options(&dev).region.as_deref(), Some("us-east-1"));
        assert_eq!(c.theme(&dev, None), None);
    }

    #[test]
    fn a_bad_key_in_a_profile_is_refused_on_its_line() {
        let e = parse("[profiles.prod]\nregion = \"eu-west-1\"\nreadonly = true\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { line: 3, reason, .. } if reason.contains("readonly")),
            "{e}"
        );
        let e = parse("[profiles.prod]\nread_only = \"yes\"\n").unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { line: 2, .. }), "{e}");
        let e =
            parse("[profiles.dev]\n\n[profiles.prod]\ntheme = \"dark\"\nregion = \"Ireland\"\n")
                .unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { line: 5, reason, .. }
                if reason.contains("profiles.prod.region") && reason.contains("Ireland")),
            "{e}"
        );
        assert!(e.to_string().contains("config.toml:5:"), "{e}");
    }

    #[test]
    fn an_explicit_missing_file_is_an_error() {
        let e = Config::load(Some(Path::new("/nonexistent/watchband.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
    }
}
