//! Injected faults: each profile surfaces the AWS SDK mapping's error kind, names the service,
//! operation and resource, has no side effect, and retrying yields complete data.

use crate::support::sim::faulty;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;
use watchband::cloud::sim::{FaultProfile, SimCloud};
use watchband::cloud::{
    AttrValue, Cloud, CloudError, CloudResult, Condition, ErrorKind, Item, Page, RecoveryPoint,
    ShardPosition,
};
use watchband::interop;

/// Calls until success (as the pipeline's retry does), recording every error seen.
async fn retry<T, F, Fut>(errors: &mut Vec<CloudError>, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CloudResult<T>>,
{
    for _ in 0..200 {
        match call().await {
            Ok(v) => return v,
            Err(e) => {
                assert!(e.kind.is_retryable(), "{e}");
                errors.push(e);
            }
        }
    }
    panic!("no success after 200 tries");
}

async fn all_recovery_points(cloud: &SimCloud, errors: &mut Vec<CloudError>) -> Vec<RecoveryPoint> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let t = token.clone();
        let page: Page<RecoveryPoint> = retry(errors, || {
            cloud.list_recovery_points_by_vault("Default", t.clone())
        })
        .await;
        out.extend(page.items);
        match page.next_token {
            Some(n) => token = Some(n),
            None => return out,
        }
    }
}

fn item(key: &str) -> Item {
    let mut i = Item::new();
    i.insert("arn".into(), AttrValue::S(key.into()));
    i.insert("snapshot".into(), AttrValue::S("snap-0".into()));
    i
}

async fn exercise(profile: FaultProfile) -> (Vec<CloudError>, usize) {
    let clean = faulty(FaultProfile::None);
    let mut none = Vec::new();
    let want = all_recovery_points(&clean, &mut none).await;
    assert!(none.is_empty());

    let cloud = faulty(profile);
    let mut errors = Vec::new();
    let got = all_recovery_points(&cloud, &mut errors).await;
    assert_eq!(got, want, "data complete after retries");
    // A conditional put retried until it succeeds: a failed try left nothing behind, or the
    // retry would fail its condition.
    for i in 0..30 {
        let cond = Condition::AttributeNotExists("arn".into());
        retry(&mut errors, || {
            cloud.put_item(
                interop::BACKUP_TABLE,
                item(&format!("k{i}")),
                Some(cond.clone()),
            )
        })
        .await;
    }
    // Publications happen exactly once per successful call.
    let topic = cloud.list_topics().await;
    let topic = match topic {
        Ok(t) => t[0].clone(),
        Err(_) => retry(&mut errors, || cloud.list_topics()).await[0].clone(),
    };
    let before = cloud.published_messages().len();
    for i in 0..30 {
        let m = format!("m{i}");
        retry(&mut errors, || cloud.publish(&topic, None, &m)).await;
    }
    assert_eq!(cloud.published_messages().len() - before, 30);
    let shard = retry(&mut errors, || {
        cloud.list_shards(interop::TEMPERATURE_STREAM)
    })
    .await[0]
        .id
        .clone();
    for _ in 0..30 {
        let it = retry(&mut errors, || {
            cloud.get_shard_iterator(interop::TEMPERATURE_STREAM, &shard, ShardPosition::Latest)
        })
        .await;
        // Within Kinesis's five GetRecords calls per second per shard, so the only errors are
        // the injected ones (the tests run on paused tokio time: the pause costs nothing).
        tokio::time::sleep(Duration::from_millis(200)).await;
        retry(&mut errors, || cloud.get_records(&it, Some(10))).await;
    }
    (errors, got.len())
}

fn check_named(errors: &[CloudError]) {
    for e in errors {
        assert!(!e.service.is_empty() && !e.operation.is_empty());
        assert!(
            e.resource.as_deref().is_some_and(|r| !r.is_empty()) || e.operation == "ListTopics",
            "{e}"
        );
        assert!(e.code.is_some());
        let shown = e.to_string();
        assert!(shown.contains(&e.operation), "{shown}");
    }
}

#[tokio::test(start_paused = true)]
async fn throttle_profile_throttles_and_loses_nothing() {
    let (errors, _) = exercise(FaultProfile::Throttle).await;
    assert!(errors.len() > 20, "{}", errors.len());
    assert!(errors.iter().all(|e| e.kind == ErrorKind::Throttling));
    let codes: BTreeSet<_> = errors.iter().filter_map(|e| e.code.clone()).collect();
    assert!(codes.contains("ThrottlingException"));
    assert!(codes.contains("ProvisionedThroughputExceededException"));
    check_named(&errors);
}

#[tokio::test(start_paused = true)]
async fn flaky_profile_gives_transient_5xx() {
    let (errors, _) = exercise(FaultProfile::Flaky).await;
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e.kind == ErrorKind::ServiceUnavailable)
    );
    check_named(&errors);
}

#[tokio::test(start_paused = true)]
async fn chaos_profile_mixes_kinds_and_loses_nothing() {
    let (errors, n) = exercise(FaultProfile::Chaos).await;
    assert!(n > 500);
    let kinds: BTreeSet<String> = errors.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert!(kinds.len() >= 2, "{kinds:?}");
    check_named(&errors);
}

#[tokio::test]
async fn expired_profile_has_a_window_of_expired_credentials() {
    let cloud = faulty(FaultProfile::Expired);
    assert!(cloud.caller_identity().await.is_ok());
    cloud.advance(Duration::from_secs(3 * 3600));
    let arn = cloud.volume_arns()[0].clone();
    let e = cloud
        .list_recovery_points_by_resource(&arn, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ExpiredCredentials);
    assert_eq!(e.resource.as_deref(), Some(arn.as_str()));
    assert_eq!(e.code.as_deref(), Some("ExpiredTokenException"));
    assert!(!e.kind.is_retryable());
    assert_eq!(
        cloud.caller_identity().await.unwrap_err().kind,
        ErrorKind::ExpiredCredentials
    );
    cloud.advance(Duration::from_secs(6 * 3600));
    assert!(
        cloud
            .list_recovery_points_by_resource(&arn, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn dropped_profile_drops_stream_connections() {
    let cloud = faulty(FaultProfile::Dropped);
    let stream = interop::TEMPERATURE_STREAM;
    cloud.advance(Duration::from_secs(5 * 3600 + 45 * 60));
    let e = cloud.list_shards(stream).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert_eq!(e.service, "kinesis");
    assert_eq!(e.resource.as_deref(), Some(stream));
    // Other services still answer (apart from rare drops), and the stream comes back.
    cloud.advance(Duration::from_secs(20 * 60));
    let mut errors = Vec::new();
    let shards = retry(&mut errors, || cloud.list_shards(stream)).await;
    assert!(!shards.is_empty());
    assert!(errors.iter().all(|e| e.kind == ErrorKind::Network));
}
