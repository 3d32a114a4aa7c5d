//! The EBS direct API answered from the world's block model ([`crate::cloud::sim::ebs`]):
//! ListChangedBlocks and ListSnapshotBlocks with AWS's paging, limits and lineage error.

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::sim::backup;
use crate::cloud::sim::ebs::{
    self, BLOCK_SIZE, BlockSet, MAX_RESULTS, MIN_RESULTS, Step, StepKind,
};
use crate::cloud::sim::world::World;
use crate::cloud::{BlockPage, CloudResult, ListChangedBlocks, ListSnapshotBlocks};

pub(crate) async fn list_changed_blocks(
    sim: &SimCloud,
    request: ListChangedBlocks,
) -> CloudResult<BlockPage> {
    const OP: &str = "ListChangedBlocks";
    let res = request.second_snapshot_id.clone();
    sim.gate("ebs", OP, Some(&res)).await?;
    sim.with(|w, now, _| {
        let (v2, second) = completed_snapshot(w, &request.second_snapshot_id, now, OP)?;
        let first = match &request.first_snapshot_id {
            None => None,
            Some(id) => {
                let (v1, first) = completed_snapshot(w, id, now, OP)?;
                if v1 != v2 {
                    return Err(invalid(
                        "ebs",
                        OP,
                        &res,
                        format!("The snapshots {id} and {res} are not of the same volume lineage"),
                    ));
                }
                if first.created >= second.created {
                    return Err(invalid(
                        "ebs",
                        OP,
                        &res,
                        format!(
                            "The first snapshot {id} must be older than the second snapshot {res}"
                        ),
                    ));
                }
                Some(first)
            }
        };
        let steps = ebs::steps_between(&w.backup, v2, first, second);
        let key = format!(
            "cb:{}:{}",
            request.first_snapshot_id.as_deref().unwrap_or("-"),
            request.second_snapshot_id
        );
        block_page(
            w,
            OP,
            v2,
            steps,
            &key,
            request.next_token.as_deref(),
            request.max_results,
            &res,
        )
    })
}

pub(crate) async fn list_snapshot_blocks(
    sim: &SimCloud,
    request: ListSnapshotBlocks,
) -> CloudResult<BlockPage> {
    const OP: &str = "ListSnapshotBlocks";
    let res = request.snapshot_id.clone();
    sim.gate("ebs", OP, Some(&res)).await?;
    sim.with(|w, now, _| {
        let (v, s) = completed_snapshot(w, &request.snapshot_id, now, OP)?;
        let steps = vec![Step {
            vol: v,
            seq: s.seq,
            kind: StepKind::Full,
        }];
        let key = format!("sb:{}", request.snapshot_id);
        block_page(
            w,
            OP,
            v,
            steps,
            &key,
            request.next_token.as_deref(),
            request.max_results,
            &res,
        )
    })
}

/// Resolves a snapshot id to (volume, snapshot) if it exists and has completed.
fn completed_snapshot(w: &World, id: &str, now: i64, op: &str) -> CloudResult<(u32, backup::Snap)> {
    let missing = || not_found("ebs", op, id, format!("The snapshot '{id}' does not exist"));
    let (v, seq) = w.backup.decode_snapshot(id).ok_or_else(missing)?;
    let s = w.backup.snap(v, seq).ok_or_else(missing)?;
    if s.created > now {
        return Err(missing());
    }
    if s.completed > now {
        return Err(invalid(
            "ebs",
            op,
            id,
            format!("The snapshot '{id}' is not completed yet (status pending)"),
        ));
    }
    Ok((v, s))
}

#[allow(clippy::too_many_arguments)]
fn block_page(
    w: &World,
    op: &str,
    v: u32,
    steps: Vec<Step>,
    token_key: &str,
    next_token: Option<&str>,
    max_results: Option<i32>,
    resource: &str,
) -> CloudResult<BlockPage> {
    let max = max_results.unwrap_or(MAX_RESULTS);
    if !(MIN_RESULTS..=MAX_RESULTS).contains(&max) {
        return Err(invalid(
            "ebs",
            op,
            resource,
            format!("MaxResults {max} must be between {MIN_RESULTS} and {MAX_RESULTS}"),
        ));
    }
    let from = match next_token {
        None => 0,
        Some(t) => t
            .strip_prefix(token_key)
            .and_then(|x| x.strip_prefix(':'))
            .and_then(|x| x.parse::<i64>().ok())
            .ok_or_else(|| {
                invalid(
                    "ebs",
                    op,
                    resource,
                    "The NextToken is not valid for this request (INVALID_PAGE_TOKEN)",
                )
            })?,
    };
    let vol = &w.backup.volumes[v as usize];
    let set = BlockSet {
        seed: w.backup.seed,
        vol,
        steps,
    };
    let (block_indices, next) = set.page(from, max as usize);
    Ok(BlockPage {
        block_indices,
        block_size: BLOCK_SIZE,
        volume_size_gib: vol.size_gib,
        next_token: next.map(|n| format!("{token_key}:{n}")),
    })
}
