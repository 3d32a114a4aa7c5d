//! EBS snapshots written block by block with the direct APIs, and the proxy that lets the SDK
//! read moto's EBS listings.

use base64::Engine;
use sha2::Digest;

/// Rewrites `"BlockIndex": "7"` to `"BlockIndex": 7` in an EBS listing: moto 5.2 writes the
/// index as a JSON string, which the Rust SDK rightly refuses.
pub fn numeric_block_indices(body: &[u8]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    for list in ["ChangedBlocks", "Blocks"] {
        if let Some(blocks) = v.get_mut(list).and_then(|b| b.as_array_mut()) {
            for b in blocks {
                let n = b["BlockIndex"].as_str().and_then(|s| s.parse::<i64>().ok());
                if let Some(n) = n {
                    b["BlockIndex"] = n.into();
                }
            }
        }
    }
    v.to_string().into_bytes()
}

/// A pass-through proxy in front of moto that fixes its EBS listings (see above).
pub fn moto_proxy(moto_port: u16) -> super::http::Server {
    super::http::Server::start(move |req| fix_listing(req, super::http::forward(moto_port, req)))
}

/// Moto's answer to `req`, with an EBS listing's block indices made numbers.
pub fn fix_listing(
    req: &super::http::Request,
    mut resp: super::http::Response,
) -> super::http::Response {
    if req.method == "GET" && (req.path.contains("/changedblocks") || req.path.contains("/blocks"))
    {
        resp.body = numeric_block_indices(&resp.body);
        resp.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        resp.headers
            .push(("Content-Type".into(), "application/json".into()));
    }
    resp
}

/// Writes a snapshot with EBS direct APIs: `blocks` are (index, fill byte) pairs.
pub async fn snapshot(ebs: &aws_sdk_ebs::Client, blocks: &[(i32, u8)]) -> String {
    let started = ebs.start_snapshot().volume_size(1).send().await.unwrap();
    let id = started.snapshot_id().unwrap().to_string();
    for &(index, fill) in blocks {
        let data = vec![fill; 512 * 1024];
        let checksum =
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&data));
        ebs.put_snapshot_block()
            .snapshot_id(&id)
            .block_index(index)
            .data_length(data.len() as i32)
            .checksum(checksum)
            .checksum_algorithm(aws_sdk_ebs::types::ChecksumAlgorithm::ChecksumAlgorithmSha256)
            .block_data(aws_sdk_ebs::primitives::ByteStream::from(data))
            .send()
            .await
            .unwrap();
    }
    ebs.complete_snapshot()
        .snapshot_id(&id)
        .changed_blocks_count(blocks.len() as i32)
        .send()
        .await
        .unwrap();
    id
}
