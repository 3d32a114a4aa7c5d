//! NAB smoke test: `auto` over two files of the Numenta Anomaly Benchmark runs, scores every
//! row in [0, 1], and flags the labelled failure of `ec2_request_latency_system_failure`. The
//! files ship in tests/data/nab (NAB's layout, its label entries for them, and its MIT notice).

use std::path::PathBuf;
use watchband::cli::detect::{detect_rows, parse_csv};
use watchband::detect::DetectorConfig;

fn nab_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/nab/data")
}

#[test]
fn auto_on_two_nab_files() {
    let dir = nab_dir();
    for (file, must_flag) in [
        // the system failure at the end of the file: the last window of
        // labels/combined_windows.json, 2014-03-20 21:26 to 2014-03-21 03:41, is rows 3956..4031
        (
            "realKnownCause/ec2_request_latency_system_failure.csv",
            Some(3956..4032),
        ),
        ("artificialNoAnomaly/art_daily_small_noise.csv", None),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let rows = parse_csv(file, &text).unwrap();
        assert!(rows.len() > 1000, "{file}: {} rows", rows.len());
        let verdicts = detect_rows(file, &rows, &DetectorConfig::default()).unwrap();
        assert_eq!(verdicts.len(), rows.len());
        assert!(verdicts.iter().all(|v| (0.0..=1.0).contains(&v.score)));
        let flagged: Vec<usize> = (0..verdicts.len())
            .filter(|&i| verdicts[i].anomalous)
            .collect();
        match must_flag {
            Some(window) => assert!(
                flagged.iter().any(|i| window.contains(i)),
                "{file}: no detection in {window:?}; detections at {flagged:?}"
            ),
            // a series without anomalies: detections are rare
            None => assert!(flagged.len() <= 5, "{file}: {} detections", flagged.len()),
        }
    }
}
