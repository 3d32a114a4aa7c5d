//! Real accounts, as an operator meets them: the credential chain (an instance role served by
//! a metadata emulator, nothing at all), exit codes, failures that read as one line within
//! 10 s, a scan that ends on a silent stream, and a debug log without secrets. Everything runs
//! the real binary against real parts started here: moto, a metadata emulator, a closed port.

use crate::support;
use crate::support::http::{Response, Server};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary with a clean environment: an empty home, no AWS variables, and a metadata
/// endpoint that refuses connections (so no test reaches 169.254.169.254).
fn watchband(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_watchband"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_REGION", "us-east-1")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}", closed_port()),
        );
    c
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    support::free_port()
}

fn run(mut c: Command) -> (Output, Duration) {
    let start = Instant::now();
    let out = c.output().expect("watchband runs");
    (out, start.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The binary with static test keys in the environment, running `args`.
fn with_keys(home: &Path, args: &[&str]) -> Command {
    let mut c = watchband(home);
    c.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(args);
    c
}

/// A failure as an operator must see it: exit 1 within 10 s, one line on stderr (returned).
fn one_line_failure(c: Command) -> String {
    let (out, took) = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// The services watchband talks to, as the SDK spells their endpoint variables.
const SERVICES: &[&str] = &[
    "STS",
    "BACKUP",
    "EBS",
    "CLOUDWATCH",
    "KINESIS",
    "SNS",
    "SQS",
    "DYNAMODB",
];

/// Points every service at `endpoint` with the per-service variables only: nothing that the
/// old "is there an AWS configuration?" guess looked at.
fn per_service_endpoints(c: &mut Command, endpoint: &str) {
    for s in SERVICES {
        c.env(format!("AWS_ENDPOINT_URL_{s}"), endpoint);
    }
}

/// A metadata emulator speaking IMDSv2: a session token on PUT, then the role's name and its
/// credentials, each only with the token. Records the paths it was asked for.
fn imds() -> (Server, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Server::start(move |req| {
        log.lock()
            .unwrap()
            .push(format!("{} {}", req.method, req.path));
        let token_ok = req.header("x-aws-ec2-metadata-token") == Some("imds-token-1");
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/latest/api/token") => Response::new(200, "text/plain", "imds-token-1")
                .with_header("x-aws-ec2-metadata-token-ttl-seconds", "21600"),
            (_, _) if !token_ok => Response::new(401, "text/plain", ""),
            ("GET", "/latest/meta-data/iam/security-credentials/") => {
                Response::new(200, "text/plain", "bastion-role")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/bastion-role") => {
                let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
                let expires = now + chrono::Duration::hours(6);
                Response::json(
                    200,
                    &serde_json::json!({
                        "Code": "Success",
                        "LastUpdated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        "Type": "AWS-HMAC",
                        "AccessKeyId": "ASIAIMDSEMULATOR0001",
                        "SecretAccessKey": "imds-secret-key",
                        "Token": "imds-session-token",
                        "Expiration": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    }),
                )
            }
            _ => Response::new(404, "text/plain", ""),
        }
    });
    (server, seen)
}

/// moto in front of which ListProtectedResources, which moto lacks, answers an empty
/// inventory (an account with no protected volumes); everything else goes to moto.
fn moto_front(moto: &support::Moto) -> Server {
    let port = moto.port;
    Server::start(move |req| {
        if req.method == "GET" && req.path.starts_with("/resources") {
            return Response::json(200, &serde_json::json!({"Results": []}));
        }
        support::http::forward(port, req)
    })
}

async fn create_stream(moto: &support::Moto, name: &str) {
    let kinesis = aws_sdk_kinesis::Client::new(&moto.sdk_config().await);
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(1)
        .send()
        .await
        .expect("CreateStream");
}

#[test]
fn a_usage_error_exits_64_and_help_has_the_table() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = run({
        let mut c = watchband(home.path());
        c.args(["scan", "--bogus"]);
        c
    });
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    let (out, _) = run({
        let mut c = watchband(home.path());
        c.arg("--help");
        c
    });
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for row in [
        "0   ok",
        "1   error",
        "2   anomalies found",
        "64  usage error",
    ] {
        assert!(help.contains(row), "--help lacks {row:?}:\n{help}");
    }
}

#[test]
fn with_no_credentials_anywhere_a_command_exits_1_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    let (out, took) = run({
        let mut c = watchband(home.path());
        c.args(["scan", "--json"]);
        c
    });
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\"demo\""),
        "never the demo by surprise"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for needle in ["no credentials", "instance role", "--profile", "--demo"] {
        assert!(err.contains(needle), "{needle:?} missing from {err}");
    }
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn an_instance_role_from_the_metadata_service_is_used() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_stream(&moto, watchband::interop::TEMPERATURE_STREAM));
    let (metadata, seen) = imds();
    let home = tempfile::tempdir().unwrap();
    let mut c = watchband(home.path());
    c.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata.endpoint())
        .args(["scan", "--json"]);
    let front = moto_front(&moto);
    per_service_endpoints(&mut c, &front.endpoint());
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["account"], "aws");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|p| p == "PUT /latest/api/token"),
        "IMDSv2 token: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|p| p == "GET /latest/meta-data/iam/security-credentials/bastion-role"),
        "role credentials: {seen:?}"
    );
}

#[test]
fn a_refused_endpoint_is_one_readable_line_within_10_s() {
    let home = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let err = one_line_failure(with_keys(
        home.path(),
        &["scan", "--endpoint-url", &endpoint],
    ));
    assert!(err.contains("sts GetCallerIdentity"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    for debug in ["DispatchFailure", "ConnectorError", "{ ", "Some("] {
        assert!(!err.contains(debug), "a debug dump ({debug}) in {err}");
    }
}

#[test]
fn a_host_that_does_not_resolve_is_one_readable_line_within_10_s() {
    let home = tempfile::tempdir().unwrap();
    let err = one_line_failure(with_keys(
        home.path(),
        &[
            "scan",
            "--endpoint-url",
            "http://watchband-test.invalid:4566",
        ],
    ));
    assert!(
        err.contains("does not resolve") || err.contains("connection"),
        "{err}"
    );
}

#[test]
fn a_scan_of_a_stream_that_receives_nothing_ends_promptly() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_stream(&moto, watchband::interop::TEMPERATURE_STREAM));
    let front = moto_front(&moto);
    let home = tempfile::tempdir().unwrap();
    let mut c = watchband(home.path());
    c.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(["scan", "--json", "--endpoint-url", &front.endpoint()]);
    let (out, took) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Before, a shard with nothing new kept the scan at LATEST until its 120 s timeout.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["streams"][0]["shards"], 1, "{report}");
}

#[test]
fn a_missing_stream_ends_the_scan_with_its_name() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut c = watchband(home.path());
    c.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(["scan", "--endpoint-url", &moto.endpoint()]);
    let (out, took) = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(
        err.contains(watchband::interop::TEMPERATURE_STREAM),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn a_debug_log_holds_the_sdk_events_and_never_a_secret() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_stream(&moto, watchband::interop::TEMPERATURE_STREAM));
    let front = moto_front(&moto);
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("logs/watchband.log");
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRETzz";
    let token = "FwoGZXIvYXdzEBYaDSESSIONTOKENzzqqq";
    let mut c = watchband(home.path());
    c.env("AWS_ACCESS_KEY_ID", "AKIALOGTEST")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", token)
        .env("WATCHBAND_LOG", "trace")
        .arg("--log-file")
        .arg(&log)
        .args(["scan", "--endpoint-url", &front.endpoint()]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.len() > 10);
    let text = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(
        text.contains("aws_smithy_runtime"),
        "the SDK's events are in the log"
    );
    assert!(
        text.contains("GetCallerIdentity") || text.contains("sts"),
        "{}",
        &text[..2000.min(text.len())]
    );
    assert!(
        !text.contains(secret),
        "the secret access key is in the log"
    );
    assert!(!text.contains(token), "the session token is in the log");
}

#[test]
fn logging_writes_nothing_to_the_terminal_and_defaults_to_the_state_directory() {
    let home = tempfile::tempdir().unwrap();
    let mut c = watchband(home.path());
    c.env("WATCHBAND_LOG", "debug")
        .env("XDG_STATE_HOME", home.path().join("state"))
        .args(["scan", "--demo", "--json"]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "stderr: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["account"], "demo", "the demo is marked");
    let log = home.path().join("state/watchband/watchband.log");
    let text = std::fs::read_to_string(&log).expect("the default log file");
    assert!(text.contains("watchband started"), "{text}");
    // A bad filter is a readable error, not silence.
    let mut c = watchband(home.path());
    c.env("WATCHBAND_LOG", "watchband=loud")
        .args(["--log-file", "/dev/null", "scan", "--demo"]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("WATCHBAND_LOG"), "{}", stderr(&out));
}

#[test]
fn read_only_writes_nothing_to_the_account_and_runs_without_a_store() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        create_stream(&moto, watchband::interop::TEMPERATURE_STREAM).await;
        // Topics watchband would subscribe its queue to, were it allowed to write.
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config().await);
        for topic in [
            watchband::interop::TEMPERATURE_TOPIC,
            watchband::interop::BACKUP_TOPIC_NAME,
        ] {
            sns.create_topic()
                .name(topic)
                .send()
                .await
                .expect("CreateTopic");
        }
    });
    let front = moto_front(&moto);
    let before = moto.data();
    let home = tempfile::tempdir().unwrap();
    // The store's directory is a file: the store cannot be opened.
    let blocked = home.path().join("data");
    std::fs::write(&blocked, "not a directory").unwrap();
    let bin = env!("CARGO_BIN_EXE_watchband");
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={home} XDG_DATA_HOME={blocked} TERM=xterm-256color \
         AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret \
         {bin} --read-only --endpoint-url {endpoint}; echo EXITED:$?; sleep 60",
        home = home.path().display(),
        blocked = blocked.display(),
        endpoint = front.endpoint(),
    );
    let Some(t) = support::tmux::Tmux::start("readonly", 120, 40, &shell) else {
        return;
    };
    let screen = t.wait("the identity in the status bar", 60, |s| {
        s.contains("123456789012")
    });
    assert!(
        screen.contains("warning"),
        "the store warning is shown:\n{screen}"
    );
    // Long enough for the notifications source to have made its queue, were it to.
    std::thread::sleep(Duration::from_secs(5));
    t.keys(&["6"]);
    let screen = t.wait("the notifications source's reason", 10, |s| {
        s.contains("write access") || s.contains("read-only")
    });
    t.keys(&["q"]);
    let screen = t
        .wait("the exit", 20, |s| s.contains("EXITED:"))
        .to_string()
        + &screen;
    assert!(screen.contains("EXITED:0"), "{screen}");
    // A scan is read-only by design.
    let mut c = watchband(home.path());
    c.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(["scan", "--endpoint-url", &front.endpoint()]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = moto.data();
    assert_eq!(
        resources(&before),
        resources(&after),
        "the account changed during a read-only session"
    );
}

/// moto's resources, without the backends it only materialised to answer a read (a service
/// first called shows up with nothing in it).
fn resources(data: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (service, kinds) in data.as_object().unwrap() {
        for (kind, items) in kinds.as_object().unwrap() {
            for item in items.as_array().into_iter().flatten() {
                out.push((service.clone(), kind.clone(), item.to_string()));
            }
        }
    }
    out.sort();
    out
}

/// moto over TLS with a private CA, the stream created through a client given that CA.
fn moto_behind_tls(dir: &Path) -> Option<(support::Moto, support::tls::TestCa)> {
    let ca = support::tls::TestCa::new(dir);
    let moto = support::Moto::start_tls(&ca.cert, &ca.key)?;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client =
            watchband::cloud::aws::http_client_trusting(std::fs::read(&ca.ca).unwrap()).unwrap();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto.endpoint())
            .http_client(client)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await;
        aws_sdk_kinesis::Client::new(&config)
            .create_stream()
            .stream_name("through-the-proxy")
            .shard_count(1)
            .send()
            .await
            .expect("CreateStream over TLS");
    });
    Some((moto, ca))
}

/// `generate` sends three records: GetCallerIdentity, then PutRecords, all over HTTPS.
fn generate_over_tls(home: &Path, moto: &support::Moto) -> Command {
    let endpoint = moto.endpoint();
    with_keys(
        home,
        &[
            "generate",
            "--stream",
            "through-the-proxy",
            "--count",
            "3",
            "--rate",
            "100",
            "--endpoint-url",
            &endpoint,
        ],
    )
}

#[test]
fn https_goes_through_the_proxy_with_connect_and_trusts_aws_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let Some((moto, ca)) = moto_behind_tls(dir.path()) else {
        return;
    };
    let proxy = support::proxy::Proxy::start();
    let mut c = generate_over_tls(dir.path(), &moto);
    c.env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", &ca.ca);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let target = format!("127.0.0.1:{}", moto.port);
    let seen = proxy.seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|t| *t == target),
        "every connection is a CONNECT to {target}: {seen:?}"
    );
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let Some((moto, ca)) = moto_behind_tls(dir.path()) else {
        return;
    };
    let proxy = support::proxy::Proxy::start();
    let mut c = generate_over_tls(dir.path(), &moto);
    c.env("HTTPS_PROXY", proxy.url())
        .env("NO_PROXY", "127.0.0.1")
        .env("AWS_CA_BUNDLE", &ca.ca);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
}

#[test]
fn an_untrusted_certificate_is_one_line_naming_aws_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let Some((moto, _ca)) = moto_behind_tls(dir.path()) else {
        return;
    };
    let err = one_line_failure(generate_over_tls(dir.path(), &moto));
    assert!(err.contains("AWS_CA_BUNDLE"), "{err}");
    // A bundle that cannot be read is refused by name, before any request.
    let mut c = generate_over_tls(dir.path(), &moto);
    c.env("AWS_CA_BUNDLE", dir.path().join("missing.pem"));
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.pem"), "{}", stderr(&out));
}

/// `:profile` and `:region` in a real terminal against moto: profiles from the shared files
/// (credentials only there), a missing profile and one without credentials as one line with
/// the account kept, a region switch, and a profile whose configuration says `read_only = true`
/// switching to read-only; the status bar names profile, account and region throughout.
#[test]
fn profile_and_region_switch_without_a_restart() {
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let front = moto_front(&moto);
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        "[default]\nregion = us-east-1\n\n[profile prod]\nregion = eu-west-1\n\n\
         [profile broken]\nregion = eu-west-2\n",
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n\
         [prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s2\n",
    )
    .unwrap();
    let config = home.path().join("watchband.toml");
    std::fs::write(&config, "[profiles.prod]\nread_only = true\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_watchband");
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={home} XDG_DATA_HOME={home}/data TERM=xterm-256color \
         AWS_EC2_METADATA_DISABLED=true {bin} --config {config} --endpoint-url {endpoint}; \
         echo EXITED:$?; sleep 60",
        home = home.path().display(),
        config = config.display(),
        endpoint = front.endpoint(),
    );
    let Some(t) = support::tmux::Tmux::start("profiles", 100, 30, &shell) else {
        return;
    };
    t.wait("the default profile in the status bar", 60, |s| {
        s.contains("default@123456789012 us-east-1")
    });
    t.text(":profile nope");
    t.keys(&["Enter"]);
    let screen = t.wait("the missing profile's line", 20, |s| {
        s.contains("no profile `nope`")
    });
    assert!(
        screen.contains("default@123456789012 us-east-1"),
        "the account watched before goes on:\n{screen}"
    );
    // A profile whose credentials do not resolve: one line naming it, the account kept.
    t.text(":profile broken");
    t.keys(&["Enter"]);
    let screen = t.wait("the unresolved credentials' line", 30, |s| {
        s.contains("cannot switch to profile broken")
    });
    assert!(
        screen.contains("default@123456789012 us-east-1"),
        "the account watched before goes on:\n{screen}"
    );
    t.text(":region eu-west-1");
    t.keys(&["Enter"]);
    t.wait("the region switched", 30, |s| {
        s.contains("default@123456789012 eu-west-1") && s.contains("now watching")
    });
    t.text(":profile prod");
    t.keys(&["Enter"]);
    let screen = t.wait(
        "the prod profile, read-only by its configuration",
        30,
        |s| s.contains("prod@123456789012 eu-west-1") && s.contains("(read-only)"),
    );
    assert!(
        !screen.contains("AKID"),
        "no credential on screen:\n{screen}"
    );
    t.keys(&["b"]);
    t.wait("a mutating key refused", 10, |s| s.contains("read-only"));
    t.keys(&["q"]);
    let screen = t.wait("the exit", 20, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
}

/// A profile the configuration file makes read-only refuses a writing command as `--read-only`
/// does (exit 64, nothing sent), and only that profile, and never the demo.
#[test]
fn a_read_only_profile_refuses_a_writing_command() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("watchband.toml");
    std::fs::write(&config, "[profiles.prod]\nread_only = true\n").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut c = watchband(home.path());
    c.args(["--config", config.to_str().unwrap(), "--profile", "prod"])
        .args(["--endpoint-url", &endpoint, "process", "stream"]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("profile prod is read_only"),
        "{}",
        stderr(&out)
    );
    // The demo is no AWS profile: prod's setting does not apply to it.
    let mut c = watchband(home.path());
    c.env("XDG_DATA_HOME", home.path().join("data"))
        .args(["--config", config.to_str().unwrap(), "--profile", "prod"])
        .args(["generate", "--demo", "--count", "1"]);
    let (out, _) = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Another profile is not refused for prod's setting (it fails later, on the account).
    let mut c = watchband(home.path());
    c.args(["--config", config.to_str().unwrap(), "--profile", "dev"])
        .args(["--endpoint-url", &endpoint, "process", "stream"]);
    let (out, _) = run(c);
    assert_ne!(out.status.code(), Some(64), "{}", stderr(&out));
}
