//! `watchband detect` end to end: a CSV in three timestamp formats through the binary, a
//! NAB-layout tree through the parallel runner, and errors that name the file and line.

use std::fmt::Write as _;
use std::process::Command;
use watchband::cli::detect::{run_nab, score_file};
use watchband::detect::{Algo, DetectorConfig};

fn series_csv(n: usize, spike_at: usize) -> String {
    let mut s = String::from("timestamp,value\n");
    for i in 0..n {
        let t = chrono::DateTime::from_timestamp(1_396_310_400 + 300 * i as i64, 0).unwrap();
        let v = if i == spike_at {
            90.0
        } else {
            20.0 + ((i * 7919) % 13) as f64 / 13.0
        };
        let _ = writeln!(s, "{},{v}", t.format("%Y-%m-%d %H:%M:%S"));
    }
    s
}

#[test]
fn input_csv_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("series.csv");
    std::fs::write(&input, series_csv(1200, 1100)).unwrap();
    let output = dir.path().join("out.csv");
    let status = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["detect", "--input"])
        .arg(&input)
        .args(["--algo", "band", "--output"])
        .arg(&output)
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(2),
        "a flagged row exits 2, as scan does"
    );
    let out = std::fs::read_to_string(&output).unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("timestamp,value,anomaly_score,lower,upper,anomaly")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1200);
    assert_eq!(rows[0][0], "2014-04-01 00:00:00");
    assert_eq!(rows[0][3], "", "no band while there is insufficient data");
    assert_eq!(
        rows[1100][5], "1",
        "the spike is anomalous: {:?}",
        rows[1100]
    );
    let lower: f64 = rows[1099][3].parse().unwrap();
    let upper: f64 = rows[1099][4].parse().unwrap();
    assert!(lower < 20.5 && 20.5 < upper, "{lower} {upper}");
}

#[test]
fn epoch_and_rfc3339_timestamps_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.csv");
    std::fs::write(
        &input,
        "timestamp,value\n1396310400,1\n2014-04-01T00:05:00Z,2\n2014-04-01 00:10:00,3\n",
    )
    .unwrap();
    let out = score_file(&input, &DetectorConfig::default()).unwrap();
    assert_eq!(out.lines().count(), 4);
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.csv");
    std::fs::write(
        &input,
        "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,NaN\n",
    )
    .unwrap();
    let e = score_file(&input, &DetectorConfig::default()).unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("broken.csv:3"), "{msg}");
}

#[test]
fn nab_tree_is_scored_in_the_same_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (cat, file, spike) in [("catA", "one.csv", 900), ("catB", "two.csv", 1000)] {
        std::fs::create_dir_all(data.join(cat)).unwrap();
        std::fs::write(data.join(cat).join(file), series_csv(1100, spike)).unwrap();
    }
    std::fs::write(data.join("README.md"), "not a category").unwrap();
    let out = dir.path().join("results");
    let cfg = DetectorConfig {
        algo: Algo::Auto,
        ..Default::default()
    };
    assert_eq!(run_nab(&data, &out, &cfg, 2).unwrap(), 2);
    for (rel, spike) in [("catA/one.csv", 900), ("catB/two.csv", 1000)] {
        let text = std::fs::read_to_string(out.join(rel)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("timestamp,value,anomaly_score"));
        let scores: Vec<f64> = lines
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(scores.len(), 1100);
        let top = (0..scores.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(top, spike, "{rel}: highest score at {top}");
    }
    // a broken file fails the run with its name and line
    std::fs::write(
        data.join("catA").join("bad.csv"),
        "timestamp,value\nnope,1\n",
    )
    .unwrap();
    let e = run_nab(&data, &out, &cfg, 2).unwrap_err();
    assert!(format!("{e:#}").contains("bad.csv:2"), "{e:#}");
}

#[test]
fn auto_output_has_no_made_up_band_no_negative_zero_and_exit_0_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("quiet.csv");
    // a flat, slightly noisy series: nothing to flag; 2,000 rows as in the report of the bug
    std::fs::write(&input, series_csv(2000, usize::MAX)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["detect", "--algo", "auto", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "nothing flagged exits 0");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut empty = 0;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        assert!(!c[2].starts_with('-'), "negative score: {line}");
        if c[3].is_empty() {
            empty += 1;
            assert!(c[4].is_empty(), "half a band: {line}");
        } else {
            assert!(
                !(c[3] == c[1] && c[4] == c[1]),
                "a band that is only the value: {line}"
            );
        }
    }
    assert!(empty > 0 && empty < 2000, "{empty} rows without a band");
    // a setting that does not exist is refused, not ignored
    let out = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["detect", "--set", "auto.histroy=10", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("histroy"));
}

/// The contextual detector is selectable by name and settable by `--set`, and flags a spike.
#[test]
fn cad_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("series.csv");
    std::fs::write(&input, series_csv(1200, 1100)).unwrap();
    let output = dir.path().join("out.csv");
    let status = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["detect", "--input"])
        .arg(&input)
        .args(["--algo", "cad", "--set", "cad.bits=4", "--output"])
        .arg(&output)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2), "a flagged row exits 2");
    let out = std::fs::read_to_string(&output).unwrap();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 1200);
    assert_eq!(rows[1100][5], "1", "the spike: {:?}", rows[1100]);
    assert_eq!(rows[1100][3], "", "cad draws no band");
}
