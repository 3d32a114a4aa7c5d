//! STS answered by the simulated account: who the demo caller is.

use crate::cloud::sim::SimCloud;
use crate::cloud::sim::world::{ACCOUNT, REGION};
use crate::cloud::{CloudResult, Identity};

pub(crate) async fn caller_identity(sim: &SimCloud) -> CloudResult<Identity> {
    sim.gate("sts", "GetCallerIdentity", None).await?;
    Ok(Identity {
        account: ACCOUNT.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/demo"),
        region: REGION.into(),
    })
}
