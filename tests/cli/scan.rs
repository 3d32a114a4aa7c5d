//! `watchband scan`: the JSON output of a demo scan validates against docs/scan.schema.json,
//! and the exit codes are the documented ones (2 anomalous, 0 clean, 1 error).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn watchband() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_watchband"));
    // The demo must not pick up a developer's AWS setup.
    for k in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"] {
        c.env_remove(k);
    }
    c
}

fn schema() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/scan.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A validator for the part of JSON Schema the scan schema uses: type (one or several),
/// enum, required, properties, additionalProperties: false, items, minimum, format date-time.
fn validate(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(|e| e.as_array())
        && !e.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {e:?}"));
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(|m| m.as_f64()), v.as_f64())
        && x < min
    {
        errors.push(format!("{at}: {x} < {min}"));
    }
    if schema.get("format").and_then(|f| f.as_str()) == Some("date-time")
        && let Some(s) = v.as_str()
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(|p| p.as_object());
        for r in schema
            .get("required")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                errors.push(format!("{at}: missing {r}"));
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(s, val, &format!("{at}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: unexpected property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{at}[{i}]"), errors);
        }
    }
}

fn errors_of(v: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(&schema(), v, "$", &mut errors);
    errors
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let bad = serde_json::json!({
        "account": "moon", "scanned_at": "yesterday", "anomalous": "yes",
        "volumes": [{"name": 1}], "streams": [], "extra": true
    });
    let errors = errors_of(&bad);
    for needle in [
        "$.account",
        "$.scanned_at",
        "$.anomalous",
        "$.volumes[0]",
        "extra",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle} not reported in {errors:?}"
        );
    }
}

#[test]
fn demo_scan_json_validates_and_exits_2_on_the_anomalous_volume() {
    let out = watchband()
        .args(["scan", "--demo", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let errors = errors_of(&v);
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    assert!(v["volumes"].as_array().unwrap().len() >= 8);
    assert!(!v["streams"].as_array().unwrap().is_empty());
    // The default world's burst has hit one volume before the demo starts.
    assert_eq!(v["anomalous"], true);
    assert!(
        v["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["anomalous"] == true)
    );
    assert_eq!(out.status.code(), Some(2), "anomalous scan must exit 2");
}

#[test]
fn demo_scan_table_names_the_volumes_and_the_verdict() {
    let out = watchband().args(["scan", "--demo"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("VOLUME"), "{stdout}");
    assert!(stdout.contains("m03p02_raw_data_stream"), "{stdout}");
    assert!(stdout.contains("ANOMALOUS"), "{stdout}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_error_exits_1_with_the_message_on_stderr() {
    let out = watchband()
        .args(["scan", "--demo", "--faults", "gremlins"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--faults"), "{err}");
}

#[test]
fn a_clean_report_exits_0() {
    use watchband::cli::scan::{ScanReport, exit_code};
    let report = ScanReport {
        account: "demo".into(),
        scanned_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        anomalous: false,
        volumes: vec![],
        streams: vec![],
    };
    assert_eq!(exit_code(&report), std::process::ExitCode::SUCCESS);
    assert_eq!(
        exit_code(&ScanReport {
            anomalous: true,
            ..report
        }),
        std::process::ExitCode::from(2)
    );
    let v = serde_json::to_value(ScanReport {
        account: "demo".into(),
        scanned_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        anomalous: false,
        volumes: vec![],
        streams: vec![],
    })
    .unwrap();
    assert!(errors_of(&v).is_empty());
}

#[test]
fn help_documents_the_exit_codes() {
    let out = watchband().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Exit codes"), "{help}");
}
