//! The one error type every `Cloud` operation returns, whichever implementation answered.
//!
//! The simulator's injected faults and the AWS SDK's errors are both mapped onto [`ErrorKind`],
//! so the retry, back-off and degrade paths above the seam are the same in the demo and on AWS.

use std::fmt;

/// What went wrong, in the terms an operator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorKind {
    /// The service asked us to slow down (ThrottlingException, ProvisionedThroughputExceeded, ...).
    Throttling,
    /// Credentials were found but have expired (ExpiredToken, an SSO session that ended).
    ExpiredCredentials,
    /// No credentials could be found by the credential chain.
    NoCredentials,
    /// The caller is not allowed to do this (AccessDenied, UnauthorizedOperation).
    AccessDenied,
    /// The named resource does not exist (ResourceNotFound, a topic or stream that is gone).
    NotFound,
    /// The request was malformed or not valid for this resource (ValidationException, ...).
    InvalidRequest,
    /// A DynamoDB condition did not hold (ConditionalCheckFailedException).
    ConditionFailed,
    /// A transient server-side failure (HTTP 5xx, ServiceUnavailable, InternalFailure).
    ServiceUnavailable,
    /// The request never got an answer: connection refused or dropped, timeout.
    Network,
    /// A Kinesis shard iterator that is older than five minutes.
    ExpiredIterator,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether doing the same call again later can succeed without the operator's help.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttling | ErrorKind::ServiceUnavailable | ErrorKind::Network
        )
    }

    /// What the operator can do about it, in one short sentence.
    pub fn hint(self) -> &'static str {
        match self {
            ErrorKind::Throttling => {
                "the call is retried with back-off; raise the service quota if it persists"
            }
            ErrorKind::ExpiredCredentials => {
                "refresh your credentials (e.g. `aws sso login --profile NAME`), then press r"
            }
            ErrorKind::NoCredentials => {
                "configure credentials (`aws configure` or `aws sso login`), pass --profile, or run with --demo"
            }
            ErrorKind::AccessDenied => "grant the IAM permission for this action to your role",
            ErrorKind::NotFound => "check the name in the configuration and the region",
            ErrorKind::InvalidRequest => "check the configuration values for this resource",
            ErrorKind::ConditionFailed => "another writer got there first; nothing was overwritten",
            ErrorKind::ServiceUnavailable => {
                "the call is retried; check the AWS Health Dashboard if it persists"
            }
            ErrorKind::Network => "check the network path or --endpoint-url; the call is retried",
            ErrorKind::ExpiredIterator => "the consumer re-opens the shard from its checkpoint",
            ErrorKind::Other => "see the message for details",
        }
    }

    /// A short label for status lines ("throttled", "expired credentials", ...).
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Throttling => "throttled",
            ErrorKind::ExpiredCredentials => "expired credentials",
            ErrorKind::NoCredentials => "no credentials",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::ConditionFailed => "condition failed",
            ErrorKind::ServiceUnavailable => "service unavailable",
            ErrorKind::Network => "network error",
            ErrorKind::ExpiredIterator => "expired iterator",
            ErrorKind::Other => "error",
        }
    }
}

/// An error from one operation of the seam, naming the service, the operation and the resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CloudError {
    pub kind: ErrorKind,
    /// "backup", "ebs", "cloudwatch", "sns", "sqs", "kinesis", "dynamodb", "sts".
    pub service: String,
    /// The API operation, as AWS names it ("ListChangedBlocks").
    pub operation: String,
    /// The resource the call was about (an ARN, a stream or table name), when there is one.
    pub resource: Option<String>,
    /// The service's error code when it gave one ("ThrottlingException").
    pub code: Option<String>,
    /// The service's message, already free of control characters.
    pub message: String,
}

impl CloudError {
    pub fn new(
        kind: ErrorKind,
        service: impl Into<String>,
        operation: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CloudError {
            kind,
            service: service.into(),
            operation: operation.into(),
            resource: None,
            code: None,
            message: crate::sanitize::clean(&message.into()),
        }
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(crate::sanitize::clean(&resource.into()));
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(crate::sanitize::clean(&code.into()));
        self
    }
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service, self.operation)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        write!(f, ": {}", self.kind.label())?;
        if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        write!(f, " — {}", self.kind.hint())
    }
}

impl std::error::Error for CloudError {}

pub type CloudResult<T> = Result<T, CloudError>;
