//! A stand-in for AWS Backup's ListRecoveryPointsByResource, which moto 5.2 does not
//! implement: a pass-through proxy in front of moto (with the EBS listing fix of [`super::ebs`])
//! that answers that one operation, in AWS's wire format, from the recovery points a test
//! registers. Everything else — DynamoDB, SQS, SNS, CloudWatch, STS, EBS — is moto's.

use super::http::{Response, Server};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One listed recovery point: its ARN and creation date.
type Point = (String, chrono::DateTime<chrono::Utc>);

/// Recovery points per resource ARN.
#[derive(Clone, Default)]
pub struct RecoveryPoints(Arc<Mutex<BTreeMap<String, Vec<Point>>>>);

impl RecoveryPoints {
    /// Registers the EBS snapshot `snapshot_id` of `volume_arn`, created at `created`, as AWS
    /// Backup lists it (the recovery point ARN is the snapshot's ARN in the volume's region).
    pub fn add(&self, volume_arn: &str, snapshot_id: &str, created: chrono::DateTime<chrono::Utc>) {
        let arn = watchband::cloud::arn::snapshot_arn_for(volume_arn, snapshot_id);
        self.0
            .lock()
            .unwrap()
            .entry(volume_arn.to_string())
            .or_default()
            .push((arn, created));
    }

    fn answer(&self, resource_arn: &str) -> Response {
        let points = self.0.lock().unwrap();
        let list: Vec<serde_json::Value> = points
            .get(resource_arn)
            .into_iter()
            .flatten()
            .map(|(arn, created)| {
                serde_json::json!({
                    "RecoveryPointArn": arn,
                    "CreationDate": created.timestamp_millis() as f64 / 1000.0,
                    "Status": "COMPLETED",
                    "BackupSizeBytes": 1_073_741_824i64,
                    "BackupVaultName": "Default",
                })
            })
            .collect();
        Response::json(200, &serde_json::json!({ "RecoveryPoints": list }))
    }
}

/// `%3A` → `:` and the like (the SDK escapes the ARN in the request path).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// The proxy: `GET /resources/{arn}/recovery-points/` from `points`, the rest to moto.
pub fn moto_proxy(moto_port: u16, points: RecoveryPoints) -> Server {
    let ebs = super::ebs::fix_listing;
    Server::start(move |req| {
        let path = req.path.split('?').next().unwrap_or_default();
        if req.method == "GET"
            && let Some(rest) = path.strip_prefix("/resources/")
            && let Some(arn) = rest
                .strip_suffix("/recovery-points/")
                .or_else(|| rest.strip_suffix("/recovery-points"))
        {
            return points.answer(&percent_decode(arn));
        }
        let resp = super::http::forward(moto_port, req);
        ebs(req, resp)
    })
}
