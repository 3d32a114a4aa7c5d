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
            (kind, None, chain)
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
}
