//! Google's JSON error shape: `{"error": {"code", "message", "status", "errors": [{"domain",
//! "reason", "message"}]}}`, as the Cloud SQL Admin API answers every failed call.

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: u16, status: &'static str, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, status, reason, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", "invalid", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", "badRequest", message)
    }

    pub fn not_found(reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(404, "NOT_FOUND", reason, message)
    }

    pub fn instance_not_found() -> ApiError {
        ApiError::not_found("instanceDoesNotExist", "The Cloud SQL instance does not exist.")
    }

    pub fn conflict(reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(409, "ALREADY_EXISTS", reason, message)
    }

    pub fn operation_in_progress() -> ApiError {
        ApiError::new(
            409,
            "ABORTED",
            "operationInProgress",
            "Operation failed because another operation was already in progress. Try your request after the current operation is complete.",
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "INTERNAL", "internalError", message)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "status": self.status,
                "errors": [{"domain": "global", "reason": self.reason, "message": self.message}],
            }
        })
    }
}
