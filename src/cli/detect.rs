//! `watchband detect`: scores a `timestamp,value` CSV, or a whole NAB-layout tree, with the
//! detection core. Timestamps may be NAB's `2014-04-01 00:00:00` (UTC), RFC 3339 or epoch
//! seconds. Errors name the file and the line.

use super::{AlgoArg, DetectArgs};
use crate::detect::{Algo, AnyDetector, Detector, DetectorConfig, Verdict};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One input row: the timestamp as written (echoed back unchanged) and as epoch seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub raw_ts: String,
    pub ts: i64,
    pub value: f64,
}

impl From<AlgoArg> for Algo {
    fn from(a: AlgoArg) -> Algo {
        match a {
            AlgoArg::Auto => Algo::Auto,
            AlgoArg::Band => Algo::Band,
            AlgoArg::Rcf => Algo::Rcf,
            AlgoArg::Rule => Algo::Rule,
            AlgoArg::Cad => Algo::Cad,
        }
    }
}

/// Runs the command: exit code 0 when nothing was flagged, 2 when a row of `--input` was
/// flagged anomalous (as `scan` does), 0 after a `--nab` run (its scores go to NAB's scorer,
/// which chooses the threshold).
pub fn run(args: &DetectArgs) -> Result<std::process::ExitCode> {
    let base = DetectorConfig {
        algo: args.algo.into(),
        ..DetectorConfig::default()
    };
    let config = with_overrides(&base, &args.set)?;
    match (&args.input, &args.nab) {
        (Some(input), None) => {
            let (out, flagged) = score_file_flagged(input, &config)?;
            match &args.output {
                Some(path) => std::fs::write(path, out)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{out}"),
            }
            if flagged > 0 {
                return Ok(std::process::ExitCode::from(2));
            }
        }
        (None, Some(dir)) => {
            let Some(out) = &args.output else {
                bail!("--nab needs --output DIR for the results tree");
            };
            let n = run_nab(dir, out, &config, 2)?;
            eprintln!(
                "watchband: scored {} into {}",
                crate::words::count(n, "file", "files"),
                out.display()
            );
        }
        _ => bail!("give either --input FILE.csv or --nab DIR (see `watchband detect --help`)"),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Applies `KEY=VALUE` overrides to a configuration: KEY is a dotted path into its JSON form
/// (`auto.history`, `auto.rcf.shingle`), VALUE is JSON (a bare word is taken as a string).
/// An unknown key is an error rather than silently ignored, so a typo cannot fake a result.
pub fn with_overrides(config: &DetectorConfig, sets: &[String]) -> Result<DetectorConfig> {
    if sets.is_empty() {
        return Ok(config.clone());
    }
    let mut json = serde_json::to_value(config).context("detector configuration")?;
    for set in sets {
        let Some((key, value)) = set.split_once('=') else {
            bail!("--set {set:?}: expected KEY=VALUE");
        };
        let value: serde_json::Value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        let mut at = &mut json;
        for part in key.split('.') {
            at = match at.get_mut(part) {
                Some(next) => next,
                None => bail!("--set {key}: no setting {part:?} in the detector configuration"),
            };
        }
        *at = value;
    }
    let out: DetectorConfig =
        serde_json::from_value(json).context("--set: the configuration does not fit")?;
    AnyDetector::new(&out).context("--set")?;
    Ok(out)
}

/// Parses a timestamp: NAB's `YYYY-MM-DD HH:MM:SS` (UTC), RFC 3339, or epoch seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
    {
        return Some(f.floor() as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

/// Reads `timestamp,value` rows (a header line is skipped). `name` is used in errors.
pub fn parse_csv(name: &str, text: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut cols = line.split(',');
        let (Some(t), Some(v)) = (cols.next(), cols.next()) else {
            bail!("{name}:{lineno}: expected `timestamp,value`, got {line:?}");
        };
        let (t, v) = (t.trim().trim_matches('"'), v.trim().trim_matches('"'));
        if i == 0 && t.eq_ignore_ascii_case("timestamp") {
            continue;
        }
        let Some(ts) = parse_timestamp(t) else {
            bail!(
                "{name}:{lineno}: cannot read timestamp {t:?} (use `2014-04-01 00:00:00`, RFC 3339 or epoch seconds)"
            );
        };
        let value: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .with_context(|| format!("{name}:{lineno}: value {v:?} is not a finite number"))?;
        rows.push(Row {
            raw_ts: t.to_string(),
            ts,
            value,
        });
    }
    Ok(rows)
}

/// Runs a fresh detector over the rows.
pub fn detect_rows(name: &str, rows: &[Row], config: &DetectorConfig) -> Result<Vec<Verdict>> {
    let mut det = AnyDetector::new(config).with_context(|| format!("{name}: detector"))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            det.observe(r.ts, r.value)
                .with_context(|| format!("{name}: row {}", i + 1))
        })
        .collect()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Scores one file into `timestamp,value,anomaly_score,lower,upper,anomaly` CSV text.
pub fn score_file(path: &Path, config: &DetectorConfig) -> Result<String> {
    score_file_flagged(path, config).map(|(out, _)| out)
}

/// [`score_file`], and how many rows were flagged anomalous. A band that is not known (too
/// little data) leaves `lower` and `upper` empty.
pub fn score_file_flagged(path: &Path, config: &DetectorConfig) -> Result<(String, usize)> {
    let name = path.display().to_string();
    let rows = parse_csv(&name, &read(path)?)?;
    let verdicts = detect_rows(&name, &rows, config)?;
    let mut out = String::from("timestamp,value,anomaly_score,lower,upper,anomaly\n");
    let mut flagged = 0;
    for (r, v) in rows.iter().zip(&verdicts) {
        let (lo, up) = match v.band {
            Some(b) => (b.lower.to_string(), b.upper.to_string()),
            None => (String::new(), String::new()),
        };
        flagged += usize::from(v.anomalous);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            r.raw_ts,
            r.value,
            v.score,
            lo,
            up,
            u8::from(v.anomalous)
        );
    }
    Ok((out, flagged))
}

/// Scores a NAB-layout tree `dir/<category>/<file>.csv` into `out` with the same layout and
/// NAB's result columns, on `threads` threads. Returns the number of files.
pub fn run_nab(dir: &Path, out: &Path, config: &DetectorConfig, threads: usize) -> Result<usize> {
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cats = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read NAB data directory {} (expected DIR/<category>/<file>.csv)",
            dir.display()
        )
    })?;
    for cat in cats {
        let cat = cat?.path();
        if !cat.is_dir() {
            continue;
        }
        for f in
            std::fs::read_dir(&cat).with_context(|| format!("cannot read {}", cat.display()))?
        {
            let f = f?.path();
            if f.extension().is_some_and(|e| e == "csv") {
                let rel = f.strip_prefix(dir).expect("listed under dir").to_path_buf();
                files.push((f, out.join(rel)));
            }
        }
    }
    if files.is_empty() {
        bail!("no DIR/<category>/<file>.csv found under {}", dir.display());
    }
    files.sort();
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((src, dst)) = files.get(i) else {
                        break;
                    };
                    if let Err(e) = score_nab_file(src, dst, config) {
                        errors
                            .lock()
                            .expect("no panics hold this lock")
                            .push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().expect("threads joined");
    if !errors.is_empty() {
        bail!(
            "{} failed:\n{}",
            crate::words::count(errors.len(), "file", "files"),
            errors.join("\n")
        );
    }
    Ok(files.len())
}

fn score_nab_file(src: &Path, dst: &Path, config: &DetectorConfig) -> Result<()> {
    let name = src.display().to_string();
    let rows = parse_csv(&name, &read(src)?)?;
    let verdicts = detect_rows(&name, &rows, config)?;
    let mut out = String::with_capacity(rows.len() * 40);
    out.push_str("timestamp,value,anomaly_score\n");
    for (r, v) in rows.iter().zip(&verdicts) {
        let _ = writeln!(out, "{},{},{}", r.raw_ts, r.value, v.score);
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(dst, out).with_context(|| format!("cannot write {}", dst.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_three_formats() {
        assert_eq!(parse_timestamp("1970-01-01 00:01:00"), Some(60));
        assert_eq!(parse_timestamp("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_timestamp("1970-01-01T01:01:00+01:00"), Some(60));
        assert_eq!(parse_timestamp("60"), Some(60));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let e = parse_csv(
            "x.csv",
            "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n",
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("x.csv:3"), "{e:#}");
        let e = parse_csv("y.csv", "timestamp,value\nnot a time,1\n").unwrap_err();
        assert!(format!("{e:#}").contains("y.csv:2"), "{e:#}");
    }

    #[test]
    fn header_is_skipped_and_rows_kept() {
        let rows = parse_csv("z", "timestamp,value\n2014-04-01 00:00:00,1.5\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].raw_ts, "2014-04-01 00:00:00");
        assert_eq!(rows[0].value, 1.5);
    }
}
