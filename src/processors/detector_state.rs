//! Where processors keep detector state between runs: a DynamoDB table reached through the
//! `Cloud` seam (the Lambda deployment's `watchband-detector-state`, the demo account's table,
//! or moto's), so a forest trained last week is still there on the next invocation.
//!
//! A state blob is base64 in string attributes, split over several items when it is larger
//! than one DynamoDB item may be (400 KB): `{key}#0` holds the chunk count.

use crate::cloud::{AttrValue, Cloud, CloudError, CloudResult, Item};
use base64::Engine;

/// Well under DynamoDB's 400 KB item limit once the base64 and the key are counted.
const CHUNK_BYTES: usize = 256 * 1024;
pub const DEFAULT_STATE_TABLE: &str = crate::interop::DETECTOR_STATE_TABLE;

pub struct StateTable<'a> {
    cloud: &'a dyn Cloud,
    table: String,
}

impl<'a> StateTable<'a> {
    pub fn new(cloud: &'a dyn Cloud, table: &str) -> Self {
        StateTable {
            cloud,
            table: table.to_string(),
        }
    }

    fn key(key: &str, chunk: usize) -> Item {
        let mut item = Item::new();
        item.insert("key".into(), AttrValue::S(format!("{key}#{chunk}")));
        item
    }

    /// The stored blob, or `None` when there is none (or it was left incomplete).
    pub async fn get(&self, key: &str) -> CloudResult<Option<Vec<u8>>> {
        let Some(first) = self.cloud.get_item(&self.table, Self::key(key, 0)).await? else {
            return Ok(None);
        };
        let chunks = first
            .get("chunks")
            .and_then(AttrValue::as_f64)
            .unwrap_or(1.0) as usize;
        let mut encoded = first
            .get("data")
            .and_then(AttrValue::as_s)
            .unwrap_or_default()
            .to_string();
        for i in 1..chunks {
            match self.cloud.get_item(&self.table, Self::key(key, i)).await? {
                Some(item) => encoded.push_str(
                    item.get("data")
                        .and_then(AttrValue::as_s)
                        .unwrap_or_default(),
                ),
                None => return Ok(None),
            }
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| {
                CloudError::new(
                    crate::cloud::ErrorKind::InvalidRequest,
                    "dynamodb",
                    "GetItem",
                    format!("stored detector state is not valid base64 ({e}); delete the item to retrain"),
                )
                .with_resource(format!("{}/{key}", self.table))
            })?;
        Ok(Some(bytes))
    }

    /// Stores the blob; chunks are written last-first so a reader never sees a count that
    /// promises chunks not yet written.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> CloudResult<()> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let chunks: Vec<&str> = encoded
            .as_bytes()
            .chunks(CHUNK_BYTES)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        let count = chunks.len().max(1);
        for i in (0..count).rev() {
            let mut item = Self::key(key, i);
            item.insert(
                "data".into(),
                AttrValue::S(chunks.get(i).copied().unwrap_or("").to_string()),
            );
            if i == 0 {
                item.insert("chunks".into(), AttrValue::N(count.to_string()));
            }
            self.cloud.put_item(&self.table, item, None).await?;
        }
        Ok(())
    }
}
