//! Shared acknowledgements between two watchband processes (the real binary, separate data
//! directories, two STS identities) through the acknowledgements table on a moto server: A
//! acknowledges with a note, B lists it with A's identity and note, B's acknowledgement is
//! refused naming A (exit 3), and once the alarm leaves ALARM both show it unacknowledged.
//! Also `ack`'s other exits (1 on error and under --read-only), and on the demo `ack`,
//! `alarms` and `scan` over acknowledgements kept across restarts.

use crate::support::Moto;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use watchband::cloud::{AlarmState, Cloud};
use watchband::interop;

/// One operator's watchband: its own data directory and temporary credentials.
struct Operator {
    data: tempfile::TempDir,
    key: String,
    secret: String,
    token: String,
}

impl Operator {
    async fn assume(moto: &Moto, session: &str) -> Operator {
        let sts = aws_sdk_sts::Client::new(&moto.sdk_config().await);
        let out = sts
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/oncall")
            .role_session_name(session)
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        Operator {
            data: tempfile::tempdir().unwrap(),
            key: c.access_key_id().to_string(),
            secret: c.secret_access_key().to_string(),
            token: c.session_token().to_string(),
        }
    }

    fn run(&self, moto: &Moto, args: &[&str]) -> Output {
        let mut c = watchband(self.data.path());
        c.env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_SESSION_TOKEN", &self.token)
            .env("AWS_REGION", "us-east-1")
            .args(args)
            .args(["--endpoint-url", &moto.endpoint()]);
        c.output().unwrap()
    }

    /// `watchband alarms --json`: the alarm named `name`.
    fn alarm(&self, moto: &Moto, name: &str) -> Value {
        let out = self.run(moto, &["alarms", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {v}"))
    }
}

fn watchband(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_watchband"));
    for k in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        c.env_remove(k);
    }
    // Its own store and no configuration file of the developer's.
    c.env("XDG_DATA_HOME", data.join("data"))
        .env("XDG_CONFIG_HOME", data.join("config"))
        .env("HOME", data);
    c
}

async fn create_ack_table(cloud: &watchband::cloud::aws::AwsCloud) {
    cloud
        .create_table(
            interop::ACK_TABLE,
            interop::ACK_HASH_KEY,
            Some(interop::ACK_RANGE_KEY),
        )
        .await
        .unwrap();
}

/// A volume's backup alarm, notifying the backup topic, put in ALARM; returns its name.
async fn firing_alarm(cloud: &watchband::cloud::aws::AwsCloud, volume_id: &str) -> String {
    let topic = cloud
        .create_topic(interop::BACKUP_TOPIC_NAME, None)
        .await
        .unwrap();
    let volume = format!("arn:aws:ec2:us-east-1:123456789012:volume/{volume_id}");
    let definition = interop::backup_alarm_definition(&volume, &topic, 2.0);
    let name = definition.name.clone();
    cloud.put_metric_alarm(definition).await.unwrap();
    cloud
        .set_alarm_state(&name, AlarmState::Alarm, "burst of changed blocks")
        .await
        .unwrap();
    name
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_watchbands_share_acknowledgements_through_the_table() {
    let Some(moto) = Moto::start() else { return };
    let cloud = moto.cloud().await;
    create_ack_table(&cloud).await;
    let name = firing_alarm(&cloud, "vol-0abc1234def567890").await;
    let a = Operator::assume(&moto, "alice").await;
    let b = Operator::assume(&moto, "bob").await;
    let alice = "arn:aws:sts::123456789012:assumed-role/oncall/alice";

    // Before: both see it in ALARM, unacknowledged.
    assert_eq!(b.alarm(&moto, &name)["acknowledgement"], Value::Null);

    // A acknowledges with a note.
    let out = a.run(&moto, &["ack", &name, "--note", "looking at it"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(alice), "{}", text(&out.stdout));

    // B lists it with A's identity and note.
    let seen = b.alarm(&moto, &name);
    assert_eq!(seen["state"], "ALARM");
    assert_eq!(seen["acknowledgement"]["who"], alice, "{seen}");
    assert_eq!(seen["acknowledgement"]["note"], "looking at it");
    assert_eq!(seen["acknowledgement"]["shared"], true);

    // B's acknowledgement is refused, naming A, with exit 3.
    let out = b.run(&moto, &["ack", &name, "--note", "me too"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("acknowledged by {alice}")) && err.contains("looking at it"),
        "{err}"
    );
    // ...and A's note is still the one.
    assert_eq!(
        a.alarm(&moto, &name)["acknowledgement"]["note"],
        "looking at it"
    );

    // The acknowledgement was announced on the alarm's topic.
    let data = moto.data();
    assert!(
        data.to_string().contains("was acknowledged by"),
        "no announcement in moto's sent notifications"
    );

    // The alarm leaves ALARM: both show it unacknowledged...
    cloud
        .set_alarm_state(&name, AlarmState::Ok, "back to normal")
        .await
        .unwrap();
    for op in [&a, &b] {
        let v = op.alarm(&moto, &name);
        assert_eq!(v["state"], "OK");
        assert_eq!(v["acknowledgement"], Value::Null, "{v}");
    }
    // ...and the next episode too (a new ALARM needs a new acknowledgement).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    cloud
        .set_alarm_state(&name, AlarmState::Alarm, "again")
        .await
        .unwrap();
    for op in [&a, &b] {
        let v = op.alarm(&moto, &name);
        assert_eq!(v["state"], "ALARM");
        assert_eq!(v["acknowledgement"], Value::Null, "{v}");
    }
    // B may acknowledge the new episode.
    let out = b.run(&moto, &["ack", &name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // --read-only shows, never makes: exit 1 and nothing written.
    cloud
        .set_alarm_state(&name, AlarmState::Ok, "ok")
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    cloud
        .set_alarm_state(&name, AlarmState::Alarm, "third")
        .await
        .unwrap();
    let out = a.run(&moto, &["ack", &name, "--read-only"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--read-only"));
    assert_eq!(a.alarm(&moto, &name)["acknowledgement"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_table_an_ack_is_kept_locally_and_shared_once_it_exists() {
    let Some(moto) = Moto::start() else { return };
    let cloud = moto.cloud().await;
    let name = firing_alarm(&cloud, "vol-0fff").await;
    let a = Operator::assume(&moto, "alice").await;
    let b = Operator::assume(&moto, "bob").await;

    let out = a.run(&moto, &["ack", &name, "--note", "offline"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not shared yet"),
        "{}",
        text(&out.stderr)
    );
    let mine = a.alarm(&moto, &name);
    assert_eq!(mine["acknowledgement"]["shared"], false, "{mine}");
    assert_eq!(b.alarm(&moto, &name)["acknowledgement"], Value::Null);

    // The table appears; A's next look shares it, and B sees it.
    create_ack_table(&cloud).await;
    assert_eq!(a.alarm(&moto, &name)["acknowledgement"]["shared"], true);
    let seen = b.alarm(&moto, &name);
    assert_eq!(seen["acknowledgement"]["note"], "offline", "{seen}");
}

#[test]
fn ack_on_the_demo_persists_across_restarts_and_refuses_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let list = || {
        let out = watchband(dir.path())
            .args(["alarms", "--demo", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let before = list();
    let firing = before["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["state"] == "ALARM")
        .expect("the demo starts with an alarm in ALARM")
        .clone();
    let name = firing["name"].as_str().unwrap();
    assert_eq!(firing["acknowledgement"], Value::Null);
    let out = watchband(dir.path())
        .args(["ack", "--demo", name, "--note", "on it"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A new process (the demo's account rebuilt from the same seed) still has it...
    let after = list();
    let acked = after["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap();
    assert_eq!(acked["acknowledgement"]["note"], "on it", "{acked}");
    // ...and refuses a second one, naming the first.
    let out = watchband(dir.path())
        .args(["ack", "--demo", name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("user/demo"),
        "{}",
        text(&out.stderr)
    );
    // `scan` reads it too (on the volume the alarm watches).
    let out = watchband(dir.path())
        .args(["scan", "--demo", "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let volume = name.strip_prefix("Backup-Anomaly-Alarm/").unwrap();
    let scanned = report["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["arn"] == volume)
        .unwrap_or_else(|| panic!("{volume} not scanned"));
    assert_eq!(
        scanned["alarm_acknowledgement"]["note"], "on it",
        "{scanned}"
    );
    assert!(
        scanned["alarm_acknowledgement"]["who"]
            .as_str()
            .unwrap()
            .ends_with("user/demo")
    );
    // An unknown alarm is an error.
    let out = watchband(dir.path())
        .args(["ack", "--demo", "no-such-alarm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
