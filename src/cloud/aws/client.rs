//! Building the SDK clients the AWS way: the default credential chain (environment, shared
//! profiles, SSO, process credentials, container and instance roles), `--profile`,
//! `--region`, `--endpoint-url` / `AWS_ENDPOINT_URL` for LocalStack or moto.
//!
//! The SDK's own retries are off (one attempt): the pipeline's retry layer is the only one,
//! so back-off, the adaptive limiter and the UI's degraded states see every failure.
//!
//! Networks of real companies: `HTTPS_PROXY` (CONNECT), `HTTP_PROXY` and `NO_PROXY` are read
//! by the SDK's connector; `AWS_CA_BUNDLE`, which the AWS CLI honours and the SDK's default
//! connector does not, is added to the trust store here ([`http_client`]).
//!
//! [`resolve_credentials`] asks the whole default chain once, up front, so a machine with no
//! credentials gets one line naming what was tried instead of a failure per source later.

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
    if let Some(client) = http_client()? {
        loader = loader.http_client(client);
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

/// The HTTPS client with `AWS_CA_BUNDLE` added to the platform's roots, or `None` (the SDK's
/// default client) when the variable is unset. The proxy variables keep working: the client is
/// built the way the SDK builds its default one, with the proxy configuration from the
/// environment.
pub fn http_client() -> CloudResult<Option<aws_sdk_sts::config::SharedHttpClient>> {
    let Some(path) = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let shown = std::path::Path::new(&path).display().to_string();
    let refused = |why: String| {
        CloudError::new(
            ErrorKind::InvalidRequest,
            "config",
            "LoadConfig",
            format!("AWS_CA_BUNDLE={shown}: {why}"),
        )
    };
    let pem = std::fs::read(&path)
        .map_err(|e| refused(format!("cannot read the certificate bundle: {e}")))?;
    http_client_trusting(pem)
        .map(Some)
        .map_err(|e| refused(format!("not a PEM certificate bundle: {e}")))
}

/// The SDK's HTTPS client (rustls, proxies from the environment, as the SDK builds its
/// default one) trusting the platform's roots and the PEM certificates in `pem`.
pub fn http_client_trusting(pem: Vec<u8>) -> Result<aws_sdk_sts::config::SharedHttpClient, String> {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    let context = tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::default().with_pem_certificate(pem))
        .build()
        .map_err(|e| e.to_string())?;
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    Ok(client)
}

/// How long the credential chain may take before watchband says what it tried. The instance
/// metadata provider alone retries for a few seconds when there is no metadata service.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(8);

/// Asks the default chain for credentials once. `Err` is one line: what was tried and what to
/// run. The credentials themselves are dropped here; the clients ask the (caching) provider
/// again when they sign.
pub async fn resolve_credentials(config: &SdkConfig, profile: Option<&str>) -> CloudResult<()> {
    use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
    let Some(provider) = config.credentials_provider() else {
        return Err(no_credentials(
            profile,
            "no credential provider is configured",
        ));
    };
    let resolved = tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await;
    match resolved {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            Err(no_credentials(profile, "no source gave credentials"))
        }
        Ok(Err(e)) => {
            let why = crate::cloud::aws::errors::root_cause(&e);
            let expired = why.to_ascii_lowercase().contains("expired");
            let mut err = no_credentials(profile, &why);
            if expired {
                err.kind = ErrorKind::ExpiredCredentials;
            }
            Err(err)
        }
        Err(_) => Err(no_credentials(
            profile,
            &format!(
                "no source answered within {} s",
                CREDENTIALS_TIMEOUT.as_secs()
            ),
        )),
    }
}

fn no_credentials(profile: Option<&str>, why: &str) -> CloudError {
    let imds = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|_| "http://169.254.169.254".into());
    let profile = profile.map_or_else(
        || "profile `default`".to_string(),
        |p| format!("profile `{p}`"),
    );
    // Displayed as "credentials DefaultChain: no credentials: <this> — <what to run>".
    CloudError::new(
        ErrorKind::NoCredentials,
        "credentials",
        "DefaultChain",
        format!(
            "{why}; tried AWS_ACCESS_KEY_ID, {profile} (~/.aws/config, ~/.aws/credentials, SSO, \
             credential_process), web identity, the container role, the instance role at {imds}"
        ),
    )
}
