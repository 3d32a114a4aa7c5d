//! Mapping the SDK's errors onto the seam's [`ErrorKind`], naming the service, the operation
//! and the resource, so an operator reads one line that says what failed and what to do
//! instead of a stack of SDK error contexts.
//!
//! Missing and expired credentials are recognised wherever the SDK reports them (a service's
//! `ExpiredToken` code, or the credential chain failing before the request is sent) and get one
//! message with the command to run. Nothing here ever formats credentials: the SDK's own error
//! texts name providers and profiles, never keys.

use crate::cloud::{CloudError, ErrorKind};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What to run when no credentials were found (one message, whichever service noticed first).
pub const NO_CREDENTIALS: &str = "no AWS credentials found: run `aws configure` or \
    `aws sso login --profile NAME` and pass --profile NAME, or try `watchband --demo`";

/// What to run when the credentials have expired.
pub const EXPIRED_CREDENTIALS: &str = "the AWS credentials have expired: run \
    `aws sso login --profile NAME` (or refresh your session credentials) and press r";

/// Maps one SDK error. `resource` is what the call was about (an ARN, a stream, a table).
pub fn map_sdk_error<E>(
    service: &str,
    operation: &str,
    resource: Option<&str>,
    err: SdkError<E>,
) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (kind, code, message) = match &err {
        SdkError::ServiceError(_) => {
            let code = err.code().map(str::to_string);
            let kind = code
                .as_deref()
                .and_then(|c| kind_of_code(service, c))
                .or_else(|| status.and_then(kind_of_status))
                .unwrap_or(ErrorKind::Other);
            let message = err
                .message()
                .map(str::to_string)
                .or_else(|| code.clone())
                .unwrap_or_else(|| match status {
                    Some(s) => format!("the service refused the request (HTTP {s})"),
                    None => "the service refused the request".into(),
                });
            (kind, code, message)
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Network,
            None,
            "no answer before the timeout".to_string(),
        ),
        SdkError::DispatchFailure(d) => {
            let chain = DisplayErrorContext(&err).to_string();
            let kind = credential_kind(&chain).unwrap_or(if d.is_user() {
                ErrorKind::InvalidRequest
            } else {
                ErrorKind::Network
            });
            // The innermost cause says what happened ("Connection refused", "dns error",
            // "invalid peer certificate: UnknownIssuer"); the layers above it only repeat
            // that a request was dispatched.
            (kind, None, network_message(&root_cause(&err)))
        }
        SdkError::ResponseError(_) => {
            // moto answers unimplemented operations with an HTML 500 the SDK cannot parse.
            let kind = status.and_then(kind_of_status).unwrap_or(ErrorKind::Other);
            let message = format!(
                "unreadable response{}",
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
            );
            (kind, None, message)
        }
        SdkError::ConstructionFailure(_) => {
            let chain = DisplayErrorContext(&err).to_string();
            let kind = credential_kind(&chain).unwrap_or(ErrorKind::InvalidRequest);
            (kind, None, chain)
        }
        _ => (
            ErrorKind::Other,
            None,
            DisplayErrorContext(&err).to_string(),
        ),
    };
    let message = match kind {
        // One clear line instead of the credential chain's account of every provider it tried.
        ErrorKind::NoCredentials => NO_CREDENTIALS.to_string(),
        ErrorKind::ExpiredCredentials => EXPIRED_CREDENTIALS.to_string(),
        _ => message,
    };
    let mut e = CloudError::new(kind, service, operation, message);
    if let Some(r) = resource {
        e = e.with_resource(r);
    }
    if let Some(c) = code {
        e = e.with_code(c);
    }
    e
}

/// The innermost error of a chain, in its own words, on one line.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    crate::sanitize::clean(&cur.to_string().replace('\n', " "))
}

/// A network failure in an operator's words, with the innermost cause kept for the details.
fn network_message(cause: &str) -> String {
    let lower = cause.to_ascii_lowercase();
    let what = if lower.contains("connection refused") {
        "connection refused (nothing listens at the endpoint)"
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        "the endpoint's host name does not resolve (DNS)"
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
    {
        "TLS failed: the endpoint's certificate is not trusted (set AWS_CA_BUNDLE to your CA)"
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "no answer before the timeout"
    } else {
        return format!("the request could not be sent: {cause}");
    };
    format!("{what} [{cause}]")
}

/// Recognises a failing credential provider in an error chain's text.
fn credential_kind(chain: &str) -> Option<ErrorKind> {
    let lower = chain.to_ascii_lowercase();
    if lower.contains("expired") && (lower.contains("token") || lower.contains("credential")) {
        Some(ErrorKind::ExpiredCredentials)
    } else if lower.contains("no providers in chain provided credentials")
        || lower.contains("credential provider was not enabled")
        || lower.contains("credentials provider was not properly configured")
        || lower.contains("an error occurred while loading credentials")
        || lower.contains("failed to load credentials")
    {
        Some(ErrorKind::NoCredentials)
    } else {
        None
    }
}

/// The kind for a service error code, as the AWS services spell them.
pub fn kind_of_code(service: &str, code: &str) -> Option<ErrorKind> {
    use ErrorKind::*;
    let kind = match code {
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceededException"
        | "SlowDown"
        | "BandwidthLimitExceeded"
        | "PriorRequestNotComplete"
        | "TransactionInProgressException"
        | "KMSThrottlingException" => Throttling,
        // Kinesis reports its per-shard and control-plane rate limits this way.
        "LimitExceededException" if service == "kinesis" => Throttling,
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            ExpiredCredentials
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "MissingAuthenticationToken"
        | "MissingAuthenticationTokenException"
        | "IncompleteSignature"
        | "IncompleteSignatureException"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException" => NoCredentials,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError"
        | "AuthorizationErrorException"
        | "NotAuthorized"
        | "OptInRequired" => AccessDenied,
        "ConditionalCheckFailedException" => ConditionFailed,
        "ExpiredIteratorException" => ExpiredIterator,
        "ResourceNotFound"
        | "ResourceNotFoundException"
        | "NotFound"
        | "NotFoundException"
        | "NoSuchEntity"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "QueueDoesNotExist" => NotFound,
        "ValidationException"
        | "ValidationError"
        | "InvalidParameterValue"
        | "InvalidParameterValueException"
        | "InvalidParameterCombination"
        | "InvalidParameterException"
        | "InvalidParameter"
        | "InvalidArgumentException"
        | "MissingParameter"
        | "MissingRequiredParameter"
        | "InvalidRequestException"
        | "InvalidNextToken"
        | "SerializationException"
        | "LimitExceeded"
        | "LimitExceededException"
        | "ResourceInUseException" => InvalidRequest,
        "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "ServiceUnavailableError"
        | "InternalFailure"
        | "InternalError"
        | "InternalServerError"
        | "InternalServiceError"
        | "InternalServerException"
        | "InternalServiceFault"
        | "InternalServiceException" => ServiceUnavailable,
        c if c.ends_with("NotFoundException") || c.ends_with("NotFound") => NotFound,
        _ => return None,
    };
    Some(kind)
}

/// The kind for an HTTP status when the code says nothing we know.
pub fn kind_of_status(status: u16) -> Option<ErrorKind> {
    match status {
        429 => Some(ErrorKind::Throttling),
        403 => Some(ErrorKind::AccessDenied),
        404 => Some(ErrorKind::NotFound),
        500..=599 => Some(ErrorKind::ServiceUnavailable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_of_code("ebs", "ThrottlingException"),
            Some(ErrorKind::Throttling)
        );
        assert_eq!(
            kind_of_code("kinesis", "ProvisionedThroughputExceededException"),
            Some(ErrorKind::Throttling)
        );
        assert_eq!(
            kind_of_code("kinesis", "LimitExceededException"),
            Some(ErrorKind::Throttling)
        );
        assert_eq!(
            kind_of_code("cloudwatch", "LimitExceededException"),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind_of_code("sts", "ExpiredToken"),
            Some(ErrorKind::ExpiredCredentials)
        );
        assert_eq!(
            kind_of_code("kinesis", "ExpiredTokenException"),
            Some(ErrorKind::ExpiredCredentials)
        );
        assert_eq!(
            kind_of_code("sns", "AuthorizationError"),
            Some(ErrorKind::AccessDenied)
        );
        assert_eq!(
            kind_of_code("dynamodb", "ConditionalCheckFailedException"),
            Some(ErrorKind::ConditionFailed)
        );
        assert_eq!(
            kind_of_code("kinesis", "ExpiredIteratorException"),
            Some(ErrorKind::ExpiredIterator)
        );
        assert_eq!(
            kind_of_code("sns", "TopicNotFound"),
            Some(ErrorKind::NotFound)
        );
        assert_eq!(
            kind_of_code("x", "InternalFailure"),
            Some(ErrorKind::ServiceUnavailable)
        );
        assert_eq!(kind_of_code("x", "SomethingNew"), None);
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_of_status(503), Some(ErrorKind::ServiceUnavailable));
        assert_eq!(kind_of_status(429), Some(ErrorKind::Throttling));
        assert_eq!(kind_of_status(400), None);
    }

    #[test]
    fn credential_failures_are_recognised_in_chains() {
        assert_eq!(
            credential_kind("dispatch failure: other: no providers in chain provided credentials"),
            Some(ErrorKind::NoCredentials)
        );
        assert_eq!(
            credential_kind("failed: the SSO token has expired and cannot be refreshed"),
            Some(ErrorKind::ExpiredCredentials)
        );
        assert_eq!(credential_kind("connection refused"), None);
    }

    #[test]
    fn network_failures_read_as_one_line() {
        assert!(
            network_message("Connection refused (os error 111)").starts_with("connection refused")
        );
        assert!(network_message("dns error: failed to lookup address").contains("DNS"));
        assert!(
            network_message("invalid peer certificate: UnknownIssuer").contains("AWS_CA_BUNDLE")
        );
        let e = std::io::Error::other("inner\nline");
        assert_eq!(root_cause(&e), "inner line");
    }
}
