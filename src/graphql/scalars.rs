//! Scalars named as API.md names them: `Date` is a calendar day.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

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
pub fn instant(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
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
    fn days_round_trip_as_iso_8601() {
        let day = Date::parse(Value::String("2028-02-29".to_owned())).unwrap();
        assert_eq!(day.0, NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(day.to_value(), Value::String("2028-02-29".to_owned()));
        assert!(Date::parse(Value::String("2027-02-29".to_owned())).is_err());
        assert!(Date::parse(Value::String("29/02/2028".to_owned())).is_err());
    }
}
