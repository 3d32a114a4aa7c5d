//! The one support module of the integration tests, included by each test binary's `main.rs`
//! (`#[path = "../support/mod.rs"] mod support;`): here a `moto_server` per test on a free port
//! of 127.0.0.1 and SDK clients pointed at it; in [`http`] a tiny HTTP server that replays
//! recorded AWS responses for the operations moto does not implement; in [`ebs`] EBS snapshots
//! for moto; in [`backup`] the recovery points moto's AWS Backup does not list; in [`sim`] the simulated account on a paused clock; in [`pipeline`] a pipeline over
//! it and the stream's reader and producer; in [`process`] the `watchband` binary as a child
//! process against moto; in [`tmux`] a real terminal (pty) per test.
//!
//! A missing `moto_server` skips the test with a message, except under `CI=true`, where it is
//! a failure (`.ci/test` installs moto into target/test-venv).

// Each binary uses part of the support; the rest is dead code there, not a mistake.
#![allow(dead_code)]

pub mod backup;
pub mod ebs;
pub mod http;
pub mod pipeline;
pub mod process;
pub mod proxy;
pub mod sim;
pub mod tls;
pub mod tmux;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `moto_server` is: the test venv first, then PATH.
pub fn moto_server_path() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(venv) = std::env::var("WATCHBAND_TEST_VENV") {
        candidates.push(PathBuf::from(venv).join("bin").join("moto_server"));
    }
    candidates
        .push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/moto_server"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("moto_server")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
    /// Served over TLS with this certificate (see [`tls`]).
    tls: bool,
}

impl Moto {
    /// Starts a server, or returns `None` (after saying why) when moto is not installed.
    /// Under CI=true a missing server panics instead.
    pub fn start() -> Option<Moto> {
        Self::start_with(None)
    }

    /// Starts a server that speaks only HTTPS with the given certificate and key (PEM).
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Option<Moto> {
        Self::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&std::path::Path, &std::path::Path)>) -> Option<Moto> {
        let Some(bin) = moto_server_path() else {
            let msg =
                "moto_server not found (run .ci/test, or pip install 'moto[server]>=5.2,<5.3')";
            if in_ci() {
                panic!("{msg}; CI=true makes this a failure");
            }
            eprintln!("skipping: {msg}");
            return None;
        };
        let port = free_port();
        let mut command = Command::new(&bin);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((cert, key)) = tls {
            command.arg("-c").arg(cert).arg("-k").arg(key);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let moto = Moto {
            child,
            port,
            tls: tls.is_some(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            // Over TLS the plain request cannot be answered: a listening port is ready.
            let ready = if moto.tls {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                matches!(moto.request("GET", "/moto-api/data.json"), Ok((200, _)))
            };
            if ready {
                return Some(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server on port {port} did not become ready within 30 s");
    }

    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// One plain HTTP/1.0 request to the server; returns status and body.
    pub fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        )?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Forgets every resource (between tests sharing a server).
    pub fn reset(&self) {
        let (status, _) = self.request("POST", "/moto-api/reset").expect("reset moto");
        assert_eq!(status, 200);
    }

    /// moto's view of its backends (`/moto-api/data.json`), e.g. SNS `sent_notifications`.
    pub fn data(&self) -> serde_json::Value {
        let (_, body) = self
            .request("GET", "/moto-api/data.json")
            .expect("moto data.json");
        serde_json::from_str(&body).expect("data.json is JSON")
    }

    /// The SDK configuration for this server: fixed test credentials, us-east-1, no retries.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint()).await
    }

    pub async fn cloud(&self) -> watchband::cloud::aws::AwsCloud {
        watchband::cloud::aws::AwsCloud::from_sdk_config(&self.sdk_config().await)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SDK configuration for any local endpoint (moto or a replay server).
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "watchband-tests",
        ))
        // moto answers unimplemented operations with HTML 500s; the SDK must not retry them.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Reads a Kinesis shard from `position`, `limit` records per GetRecords, until a call comes
/// back empty and caught up.
pub async fn read_shard(
    cloud: &dyn watchband::cloud::Cloud,
    stream: &str,
    shard: &str,
    position: watchband::cloud::ShardPosition,
    limit: i32,
) -> Vec<watchband::cloud::StreamRecord> {
    let mut iterator = Some(
        cloud
            .get_shard_iterator(stream, shard, position)
            .await
            .unwrap(),
    );
    let mut out = Vec::new();
    while let Some(it) = iterator {
        let batch = cloud.get_records(&it, Some(limit)).await.unwrap();
        let empty = batch.records.is_empty();
        out.extend(batch.records);
        if empty && batch.millis_behind_latest == 0 {
            break;
        }
        iterator = batch.next_iterator;
    }
    out
}

/// The temperature pipeline's anomaly table (`deviceid` hash, `timestamp` range), as the
/// deployment template creates it.
pub async fn create_anomaly_table(config: &aws_config::SdkConfig) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(watchband::interop::TEMPERATURE_TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("deviceid"))
        .attribute_definitions(attr("timestamp"))
        .key_schema(key("deviceid", KeyType::Hash))
        .key_schema(key("timestamp", KeyType::Range))
        .send()
        .await
        .unwrap();
}

/// The temperature pipeline's stream, with `shards` shards.
pub async fn create_temperature_stream(config: &aws_config::SdkConfig, shards: i32) {
    aws_sdk_kinesis::Client::new(config)
        .create_stream()
        .stream_name(watchband::interop::TEMPERATURE_STREAM)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
}

/// One temperature reading as a record of the stream, with any device and timestamp (an
/// empty or oversized one too: the tests' poison records). The partition key is fixed, since
/// an empty device id cannot be one.
pub fn reading_record(deviceid: &str, timestamp: &str, value: f64) -> watchband::cloud::PutRecord {
    let r = watchband::interop::TemperatureReading {
        timestamp: timestamp.into(),
        datatype: "Temperature".into(),
        value,
        deviceid: deviceid.into(),
        date: "2026-05-28".into(),
        lowest_temp: 96.0,
        highest_temp: 101.0,
    };
    watchband::cloud::PutRecord {
        partition_key: "p".into(),
        data: r.to_json().into_bytes(),
    }
}

/// Puts `records` on the temperature stream, 500 a call (PutRecords' limit), none failing.
pub async fn put_all(
    cloud: &dyn watchband::cloud::Cloud,
    records: Vec<watchband::cloud::PutRecord>,
) {
    for chunk in records.chunks(500) {
        let out = cloud
            .put_records(watchband::interop::TEMPERATURE_STREAM, chunk.to_vec())
            .await
            .unwrap();
        assert_eq!(out.failed(), 0);
    }
}
