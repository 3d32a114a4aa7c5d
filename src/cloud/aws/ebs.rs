//! The EBS direct API: changed blocks between two snapshots and the blocks of one snapshot.
//! Only block indices are kept — watchband counts blocks, it never reads their data.

use super::errors::map_sdk_error;
use crate::cloud::{BlockPage, CloudResult, ListChangedBlocks, ListSnapshotBlocks};
use aws_sdk_ebs::Client;

const SERVICE: &str = "ebs";

pub async fn list_changed_blocks(c: &Client, r: ListChangedBlocks) -> CloudResult<BlockPage> {
    let out = c
        .list_changed_blocks()
        .set_first_snapshot_id(r.first_snapshot_id.clone())
        .second_snapshot_id(&r.second_snapshot_id)
        .set_next_token(r.next_token.clone())
        .set_max_results(r.max_results)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "ListChangedBlocks", Some(&r.second_snapshot_id), e))?;
    Ok(BlockPage {
        block_indices: out
            .changed_blocks()
            .iter()
            .filter_map(|b| b.block_index())
            .collect(),
        block_size: out.block_size().unwrap_or_default(),
        volume_size_gib: out.volume_size().unwrap_or_default(),
        next_token: out.next_token().map(str::to_string),
    })
}

pub async fn list_snapshot_blocks(c: &Client, r: ListSnapshotBlocks) -> CloudResult<BlockPage> {
    let out = c
        .list_snapshot_blocks()
        .snapshot_id(&r.snapshot_id)
        .set_next_token(r.next_token.clone())
        .set_max_results(r.max_results)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "ListSnapshotBlocks", Some(&r.snapshot_id), e))?;
    Ok(BlockPage {
        block_indices: out
            .blocks()
            .iter()
            .filter_map(|b| b.block_index())
            .collect(),
        block_size: out.block_size().unwrap_or_default(),
        volume_size_gib: out.volume_size().unwrap_or_default(),
        next_token: out.next_token().map(str::to_string),
    })
}
