//! Scalars named as API.md names them: `Date` is a calendar day,
//! `DateTime` an instant.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, SubsecRound as _, Utc};

/// An instant, e.g. when an appointment starts or a record changed.
/// Answers always spell it one way, RFC 3339 in UTC with milliseconds and
/// `Z` (`2027-03-01T14:30:00.000Z`, what JavaScript's `toISOString()`
/// writes), so clients can compare them as text; inputs take any RFC 3339
/// offset (`2027-03-01T09:30:00-05:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub chrono::DateTime<Utc>);

/// An instant in RFC 3339: answers in UTC with milliseconds and `Z`
/// (`2027-03-01T14:30:00.000Z`); inputs with any offset
/// (`2027-03-01T09:30:00-05:00`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // To the millisecond answers are written with, so a value read
            // back (a `from` or `to`) means exactly what was shown.
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|instant| Self(instant.with_timezone(&Utc).trunc_subsecs(3)))
                .map_err(|_| {
                    InputValueError::custom(
                        "an instant in RFC 3339, e.g. 2027-03-01T14:30:00Z or 2027-03-01T09:30:00-05:00",
                    )
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl From<chrono::DateTime<Utc>> for Timestamp {
    fn from(instant: chrono::DateTime<Utc>) -> Self {
        Self(instant)
    }
}

impl From<Timestamp> for chrono::DateTime<Utc> {
    fn from(instant: Timestamp) -> Self {
        instant.0
    }
}

/// A calendar day, `YYYY-MM-DD` (ISO 8601), e.g. a date of birth or an
/// expiry date; days of the clinic's rules are counted in its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (ISO 8601).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Self)
                .map_err(|_| InputValueError::custom("a calendar day as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// The instant of a time stored as Unix seconds (appointments, due
/// times); out-of-range values, which the API never stores, show as the
/// epoch rather than failing the response.
pub fn instant(seconds: i64) -> Timestamp {
    Timestamp(chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default())
}

impl From<NaiveDate> for Date {
    fn from(day: NaiveDate) -> Self {
        Self(day)
    }
}

impl From<Date> for NaiveDate {
    fn from(day: Date) -> Self {
        day.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_answered_in_one_format_and_read_with_any_offset() {
        let started = chrono::DateTime::parse_from_rfc3339("2027-03-01T14:30:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            Timestamp(started).to_value(),
            Value::String("2027-03-01T14:30:00.123Z".to_owned())
        );
        assert_eq!(
            instant(1_803_738_600).to_value(),
            Value::String("2027-02-27T14:30:00.000Z".to_owned())
        );
        let local =
            Timestamp::parse(Value::String("2027-03-01T09:30:00-05:00".to_owned())).unwrap();
        assert_eq!(
            local.to_value(),
            Value::String("2027-03-01T14:30:00.000Z".to_owned())
        );
        let precise =
            Timestamp::parse(Value::String("2027-03-01T14:30:00.123987Z".to_owned())).unwrap();
        assert_eq!(
            precise.to_value(),
            Value::String("2027-03-01T14:30:00.123Z".to_owned())
        );
        assert_eq!(
            precise.0.timestamp_subsec_micros(),
            123_000,
            "inputs keep what answers show"
        );
        assert!(Timestamp::parse(Value::String("2027-03-01 14:30".to_owned())).is_err());
        assert!(Timestamp::parse(Value::Number(1.into())).is_err());
    }

    #[test]
    fn days_round_trip_as_iso_8601() {
        let day = Date::parse(Value::String("2028-02-29".to_owned())).unwrap();
        assert_eq!(day.0, NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(day.to_value(), Value::String("2028-02-29".to_owned()));
        assert!(Date::parse(Value::String("2027-02-29".to_owned())).is_err());
        assert!(Date::parse(Value::String("29/02/2028".to_owned())).is_err());
    }
}
