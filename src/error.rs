//! The one error type of the application and its mapping to the GraphQL
//! error codes of API.md.
//!
//! Every failure a client can see is an [`AppError`]. Internal failures
//! (database, bugs) are logged under a fresh `errorId` and reach the client
//! only as `INTERNAL` with a generic message: no SQL, path or stack trace.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

/// The `extensions.code` values of API.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials were presented.
    Unauthenticated,
    /// The actor may not do this.
    Forbidden,
    /// The record does not exist, or the actor may not know it does.
    NotFound,
    /// The input is invalid; `extensions.field` names the field.
    BadUserInput,
    /// A stale `expectedVersion`, or a value that must be unique already exists.
    Conflict,
    /// Too many requests; `extensions.retryAfterSeconds` says when to retry.
    RateLimited,
    /// The record is not in a state that allows this operation.
    InvalidState,
    /// The query exceeds a depth, complexity or size limit.
    QueryTooComplex,
    /// A failure of the server; `extensions.errorId` finds it in the log.
    Internal,
    /// R-BOOKING: the provider (or device) is already booked then.
    DoubleBooked,
    /// R-SCREENING: an absolute contraindication, or a relative one without
    /// a provider's override reason.
    Contraindicated,
    /// R-SCREENING: no screening within the policy's validity.
    ScreeningRequired,
    /// R-CONSENT: no signed informed consent on file.
    ConsentRequired,
    /// R-CONTACT: the channel is not one the patient consents to.
    ContactNotConsented,
    /// R-INTERVAL: too close to another procedure of the patient;
    /// `extensions.earliestAllowed` gives the next possible day.
    IntervalTooShort,
    /// R-LICENSE: not a provider with a license on file.
    LicenseRequired,
    /// R-LICENSE: the provider's license has expired by the procedure's date.
    LicenseExpired,
    /// R-DEVICE: the device is in maintenance or retired.
    DeviceUnavailable,
    /// R-CARTRIDGE: the cartridge was already used in another procedure.
    CartridgeReused,
    /// R-CARTRIDGE: the cartridge is past its expiry date.
    CartridgeExpired,
    /// R-DEPTH: deeper than the device's or cartridge's labelled maximum.
    DepthExceedsDevice,
    /// R-DEPTH: outside the area's guideline range without an override reason.
    DepthOutOfRange,
    /// R-RECORDS: the procedure is signed; only amendments may change it.
    ProcedureLocked,
}

impl ErrorCode {
    /// The code as it appears in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::InvalidState => "INVALID_STATE",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::Internal => "INTERNAL",
            Self::DoubleBooked => "DOUBLE_BOOKED",
            Self::Contraindicated => "CONTRAINDICATED",
            Self::ScreeningRequired => "SCREENING_REQUIRED",
            Self::ConsentRequired => "CONSENT_REQUIRED",
            Self::ContactNotConsented => "CONTACT_NOT_CONSENTED",
            Self::IntervalTooShort => "INTERVAL_TOO_SHORT",
            Self::LicenseRequired => "LICENSE_REQUIRED",
            Self::LicenseExpired => "LICENSE_EXPIRED",
            Self::DeviceUnavailable => "DEVICE_UNAVAILABLE",
            Self::CartridgeReused => "CARTRIDGE_REUSED",
            Self::CartridgeExpired => "CARTRIDGE_EXPIRED",
            Self::DepthExceedsDevice => "DEPTH_EXCEEDS_DEVICE",
            Self::DepthOutOfRange => "DEPTH_OUT_OF_RANGE",
            Self::ProcedureLocked => "PROCEDURE_LOCKED",
        }
    }

    /// An error with this code, raised outside resolvers (before or around
    /// execution), where async-graphql wants a [`async_graphql::ServerError`].
    pub fn server_error(self, message: impl Into<String>) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", self.as_str());
        error
    }
}

/// Every way a request can fail, each variant mapped to one [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `UNAUTHENTICATED`: missing, invalid or expired credentials; the text
    /// says what to do.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// `FORBIDDEN`: authenticated, but not allowed to do this.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// `FORBIDDEN`, saying which clinic rule leaves this caller out (a
    /// provider the amendment policy does not let amend a colleague's
    /// procedure).
    #[error("{0}")]
    ForbiddenByPolicy(&'static str),
    /// `NOT_FOUND`: no such record (or none this actor may see).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, in the API's words (e.g. "patient").
        entity: &'static str,
    },
    /// `BAD_USER_INPUT` with `extensions.field`.
    #[error("{message}")]
    BadUserInput {
        /// The input field at fault, as named in the schema (e.g. "first").
        field: String,
        /// What is wrong with it, for a human.
        message: String,
    },
    /// `CONFLICT`: stale version, a duplicate of a unique value, or a record
    /// that changed while one query read it (send the query again).
    #[error("{0}")]
    Conflict(String),
    /// `RATE_LIMITED` with `extensions.retryAfterSeconds`.
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_seconds: u64,
    },
    /// `INVALID_STATE`: the record's state does not allow the operation.
    #[error("{0}")]
    InvalidState(String),
    /// `QUERY_TOO_COMPLEX`: a query limit was exceeded; the message says which.
    #[error("{0}")]
    QueryTooComplex(String),
    /// A broken rule of DOMAIN.md, with its own code (e.g. DOUBLE_BOOKED).
    #[error("{message}")]
    Rule {
        /// The rule's code.
        code: ErrorCode,
        /// What is wrong and what to do, for a human.
        message: String,
    },
    /// A rule's code with what it found in `extensions` (e.g.
    /// `CONTRAINDICATED` with `findings: ["PREGNANCY"]`,
    /// `CONTACT_NOT_CONSENTED` with `channel: "TEXT"`), so a client shows
    /// them without parsing the message.
    #[error("{message}")]
    RuleWithDetail {
        /// The rule's code.
        code: ErrorCode,
        /// What is wrong and what to do, for a human.
        message: String,
        /// The `extensions` key.
        key: &'static str,
        /// Its value, in the API's spelling.
        value: async_graphql::Value,
    },
    /// `INTERVAL_TOO_SHORT` with `extensions.earliestAllowed` (R-INTERVAL).
    #[error(
        "procedures of a patient must be at least {min_days} days apart; the earliest allowed day is {earliest_allowed}"
    )]
    IntervalTooShort {
        /// The policy's minimum interval.
        min_days: u32,
        /// The first day on or after the requested one that respects it.
        earliest_allowed: chrono::NaiveDate,
    },
    /// `INTERNAL`: a database failure that is not the client's doing.
    #[error("database error: {0}")]
    Database(DbErr),
    /// `INTERNAL` with `retryAfterSeconds`: no database connection could be
    /// had in time (the pool is exhausted, or the database is unreachable).
    /// The request did nothing; retrying shortly is safe.
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    /// `INTERNAL`: any other failure of the server.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// What clients see when no database connection could be had in time.
pub const UNAVAILABLE_MESSAGE: &str = "The server is busy or cannot reach its database right now; nothing was changed. Retry shortly.";

/// [`UNAVAILABLE_MESSAGE`] for a nested field, which may fail after its
/// operation (a mutation) already committed.
pub const UNAVAILABLE_NESTED_MESSAGE: &str = "The server is busy or cannot reach its database right now, so this part of the answer is missing; the operation itself may have succeeded. Check before retrying a change.";

/// The wait suggested with [`UNAVAILABLE_MESSAGE`].
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 1;

/// The message clients see for every internal failure.
pub const INTERNAL_MESSAGE: &str =
    "Something went wrong on our side. Quote the errorId when you report it.";

/// Whether a GraphQL error carries `code` as its `extensions.code`.
pub fn carries_code(error: &async_graphql::ServerError, code: ErrorCode) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .is_some_and(|value| *value == async_graphql::Value::from(code.as_str()))
}

impl AppError {
    /// Shorthand for a `BAD_USER_INPUT` naming its field.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A broken domain rule.
    pub fn rule(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Rule {
            code,
            message: message.into(),
        }
    }

    /// A rule's refusal that names what it found in `extensions.<key>`.
    pub fn rule_with(
        code: ErrorCode,
        message: impl Into<String>,
        key: &'static str,
        value: impl Into<async_graphql::Value>,
    ) -> Self {
        Self::RuleWithDetail {
            code,
            message: message.into(),
            key,
            value: value.into(),
        }
    }

    /// R-SCREENING's refusal: `CONTRAINDICATED` with the findings in
    /// `extensions.findings`.
    pub fn contraindicated(problem: &crate::domain::screening::NotCleared) -> Self {
        Self::rule_with(
            ErrorCode::Contraindicated,
            problem.to_string(),
            "findings",
            problem.findings(),
        )
    }

    /// The code this error carries in `extensions.code`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden | Self::ForbiddenByPolicy(_) => ErrorCode::Forbidden,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::QueryTooComplex(_) => ErrorCode::QueryTooComplex,
            Self::Rule { code, .. } | Self::RuleWithDetail { code, .. } => *code,
            Self::IntervalTooShort { .. } => ErrorCode::IntervalTooShort,
            Self::Database(_) | Self::Internal(_) | Self::Unavailable(_) => ErrorCode::Internal,
        }
    }

    /// Turns the error into the GraphQL error a client sees. Internal
    /// failures are logged here, with their detail, under a new `errorId`.
    pub fn into_graphql_error(self) -> async_graphql::Error {
        let code = self.code();
        match self {
            Self::Database(_) | Self::Internal(_) => {
                let error_id = Uuid::now_v7();
                tracing::error!(error_id = %error_id, error = %self, "internal error");
                async_graphql::Error::new(INTERNAL_MESSAGE).extend_with(|_, ext| {
                    ext.set("code", code.as_str());
                    ext.set("errorId", error_id.to_string());
                })
            }
            Self::Unavailable(_) => {
                let error_id = Uuid::now_v7();
                tracing::warn!(error_id = %error_id, error = %self, "database unavailable");
                async_graphql::Error::new(UNAVAILABLE_MESSAGE).extend_with(|_, ext| {
                    ext.set("code", code.as_str());
                    ext.set("errorId", error_id.to_string());
                    ext.set("retryAfterSeconds", UNAVAILABLE_RETRY_AFTER_SECONDS);
                })
            }
            Self::BadUserInput { field, message } => async_graphql::Error::new(message)
                .extend_with(|_, ext| {
                    ext.set("code", code.as_str());
                    ext.set("field", field.as_str());
                }),
            Self::RateLimited {
                retry_after_seconds,
            } => async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
                ext.set("code", code.as_str());
                ext.set("retryAfterSeconds", retry_after_seconds);
            }),
            Self::IntervalTooShort {
                earliest_allowed, ..
            } => async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
                ext.set("code", code.as_str());
                ext.set("earliestAllowed", earliest_allowed.to_string());
            }),
            Self::RuleWithDetail {
                message,
                key,
                value,
                ..
            } => async_graphql::Error::new(message).extend_with(|_, ext| {
                ext.set("code", code.as_str());
                ext.set(key, value.clone());
            }),
            other => async_graphql::Error::new(other.to_string())
                .extend_with(|_, ext| ext.set("code", code.as_str())),
        }
    }
}

impl From<DbErr> for AppError {
    /// Constraint violations are the client's doing and become `CONFLICT`;
    /// everything else is internal.
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict("a record with this value already exists".to_owned())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::Conflict("a referenced record does not exist or is still in use".to_owned())
            }
            _ if matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
                || is_refused_for_now(&error) =>
            {
                Self::Unavailable(error)
            }
            _ => Self::Database(error),
        }
    }
}

/// Whether the database refused a statement for a passing reason, so the
/// transaction was rolled back and a retry can succeed: PostgreSQL shutting
/// down or restarting (SQLSTATE 57P01–57P03), or SQLite still busy after the
/// busy timeout. A broken connection is not one of them: a COMMIT whose
/// answer is lost may have committed.
fn is_refused_for_now(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return false;
    };
    let sqlx::Error::Database(error) = error.as_ref() else {
        return false;
    };
    let code = error.code().unwrap_or_default();
    if error
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
    } else if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // SQLITE_BUSY and its extended codes (recovery, snapshot, timeout).
        matches!(code.as_ref(), "5" | "261" | "517" | "773")
    } else {
        false
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.into_graphql_error()
    }
}

/// Result of a service call.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(error: &async_graphql::Error, key: &str) -> Option<async_graphql::Value> {
        error
            .extensions
            .as_ref()
            .and_then(|ext| ext.get(key).cloned())
    }

    #[test]
    fn internal_errors_hide_their_detail_behind_an_error_id() {
        let error = AppError::Database(DbErr::Custom(
            "SELECT secret FROM patients failed".to_owned(),
        ))
        .into_graphql_error();
        assert_eq!(error.message, INTERNAL_MESSAGE);
        assert_eq!(
            extension(&error, "code"),
            Some(async_graphql::Value::from("INTERNAL"))
        );
        assert!(extension(&error, "errorId").is_some());
        assert!(!format!("{error:?}").contains("SELECT"));
    }

    #[test]
    fn bad_input_names_its_field() {
        let error = AppError::bad_input("first", "must be between 1 and 100").into_graphql_error();
        assert_eq!(
            extension(&error, "code"),
            Some(async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            extension(&error, "field"),
            Some(async_graphql::Value::from("first"))
        );
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        let error = AppError::RateLimited {
            retry_after_seconds: 7,
        }
        .into_graphql_error();
        assert_eq!(
            extension(&error, "retryAfterSeconds"),
            Some(async_graphql::Value::from(7))
        );
    }

    #[test]
    fn every_variant_has_the_code_of_api_md() {
        let cases = [
            (AppError::Unauthenticated("sign in"), "UNAUTHENTICATED"),
            (AppError::Forbidden, "FORBIDDEN"),
            (AppError::NotFound { entity: "patient" }, "NOT_FOUND"),
            (AppError::Conflict("stale".into()), "CONFLICT"),
            (AppError::InvalidState("signed".into()), "INVALID_STATE"),
            (
                AppError::QueryTooComplex("depth".into()),
                "QUERY_TOO_COMPLEX",
            ),
            (AppError::Internal(anyhow::anyhow!("boom")), "INTERNAL"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code().as_str(), code);
        }
    }
}
