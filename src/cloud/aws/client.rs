//! Building the SDK clients the AWS way: the default credential chain (environment, shared
//! profiles, SSO, process credentials, container and instance roles), `--profile`,
//! `--region`, `--endpoint-url` / `AWS_ENDPOINT_URL` for LocalStack or moto.
//!
//! The SDK's own retries are off (one attempt): the pipeline's retry layer is the only one,
//! so back-off, the adaptive limiter and the UI's degraded states see every failure.

use crate::cloud::{CloudError, CloudResult, ErrorKind};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// How to reach AWS; every field falls back to the SDK's usual sources when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides every service's endpoint (moto, LocalStack).
    pub endpoint_url: Option<String>,
}

/// Connect timeout and per-attempt timeout. The attempt timeout stays above SQS's longest
/// long poll (20 s) so a receive that waits is not cut off.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(45);

/// Loads the shared SDK configuration. Fails only when no region can be found.
pub async fn load_sdk_config(options: &AwsOptions) -> CloudResult<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(CloudError::new(
            ErrorKind::InvalidRequest,
            "config",
            "LoadConfig",
            "no AWS region configured: pass --region REGION, set AWS_REGION, or add `region` to the profile",
        ));
    }
    Ok(config)
}
