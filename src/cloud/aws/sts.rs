//! STS: who the credentials belong to, for the status bar.

use super::convert::clean;
use super::errors::map_sdk_error;
use crate::cloud::{CloudResult, Identity};
use aws_sdk_sts::Client;

pub async fn caller_identity(c: &Client, region: &str) -> CloudResult<Identity> {
    let out = c
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| map_sdk_error("sts", "GetCallerIdentity", None, e))?;
    Ok(Identity {
        account: clean(out.account()),
        arn: clean(out.arn()),
        region: crate::sanitize::clean(region),
    })
}
