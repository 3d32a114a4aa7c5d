//! The AWS errors the simulated account answers with: codes and [`ErrorKind`]s as the SDK
//! reports them, one mapping per service model's error type.

use crate::cloud::sim::{dynamodb, kinesis, messaging};
use crate::cloud::{CloudError, ErrorKind};

pub(super) fn err(
    kind: ErrorKind,
    service: &str,
    op: &str,
    code: &str,
    msg: impl Into<String>,
) -> CloudError {
    CloudError::new(kind, service, op, msg).with_code(code)
}

pub(super) fn not_found(
    service: &str,
    op: &str,
    resource: &str,
    msg: impl Into<String>,
) -> CloudError {
    err(
        ErrorKind::NotFound,
        service,
        op,
        "ResourceNotFoundException",
        msg,
    )
    .with_resource(resource)
}

pub(super) fn invalid(
    service: &str,
    op: &str,
    resource: &str,
    msg: impl Into<String>,
) -> CloudError {
    err(
        ErrorKind::InvalidRequest,
        service,
        op,
        "ValidationException",
        msg,
    )
    .with_resource(resource)
}

pub(super) fn msg_err(e: messaging::MsgError, op: &str, res: &str) -> CloudError {
    match e {
        messaging::MsgError::NotFound(m) => {
            err(ErrorKind::NotFound, "sns", op, "NotFound", m).with_resource(res)
        }
        messaging::MsgError::Invalid(m) => {
            err(ErrorKind::InvalidRequest, "sns", op, "InvalidParameter", m).with_resource(res)
        }
    }
}

pub(super) fn sqs_err(e: messaging::MsgError, op: &str, res: &str) -> CloudError {
    match e {
        messaging::MsgError::NotFound(m) => err(
            ErrorKind::NotFound,
            "sqs",
            op,
            "AWS.SimpleQueueService.NonExistentQueue",
            m,
        )
        .with_resource(res),
        messaging::MsgError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "sqs",
            op,
            "InvalidParameterValue",
            m,
        )
        .with_resource(res),
    }
}

pub(super) fn kin_err(e: kinesis::KinError, op: &str, res: &str) -> CloudError {
    match e {
        kinesis::KinError::NotFound(m) => err(
            ErrorKind::NotFound,
            "kinesis",
            op,
            "ResourceNotFoundException",
            m,
        )
        .with_resource(res),
        kinesis::KinError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "kinesis",
            op,
            "InvalidArgumentException",
            m,
        )
        .with_resource(res),
        kinesis::KinError::Expired(m) => err(
            ErrorKind::ExpiredIterator,
            "kinesis",
            op,
            "ExpiredIteratorException",
            m,
        )
        .with_resource(res),
        kinesis::KinError::Throttled(m) => err(
            ErrorKind::Throttling,
            "kinesis",
            op,
            "ProvisionedThroughputExceededException",
            m,
        )
        .with_resource(res),
    }
}

pub(super) fn ddb_err(e: dynamodb::DdbError, op: &str, res: &str) -> CloudError {
    match e {
        dynamodb::DdbError::NotFound(m) => err(
            ErrorKind::NotFound,
            "dynamodb",
            op,
            "ResourceNotFoundException",
            m,
        )
        .with_resource(res),
        dynamodb::DdbError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "dynamodb",
            op,
            "ValidationException",
            m,
        )
        .with_resource(res),
        dynamodb::DdbError::ConditionFailed(m) => err(
            ErrorKind::ConditionFailed,
            "dynamodb",
            op,
            "ConditionalCheckFailedException",
            m,
        )
        .with_resource(res),
    }
}
