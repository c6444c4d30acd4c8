//! Appointment windows and the overlap rule (R-BOOKING).

use chrono::{DateTime, Duration, Utc};

/// Shortest and longest appointment accepted, in minutes.
pub const APPOINTMENT_MINUTES: std::ops::RangeInclusive<i64> = 10..=480;

/// A half-open time window `[start, end)`: back-to-back appointments do
/// not overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First instant.
    pub start: DateTime<Utc>,
    /// First instant after the window.
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window of `minutes` from `start`.
    ///
    /// # Errors
    /// `None` when the length is outside [`APPOINTMENT_MINUTES`].
    pub fn new(start: DateTime<Utc>, minutes: i64) -> Option<Self> {
        APPOINTMENT_MINUTES.contains(&minutes).then(|| Self {
            start,
            end: start + Duration::minutes(minutes),
        })
    }

    /// True when the two windows share an instant.
    pub fn overlaps(self, other: Self) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The start as stored (Unix seconds).
    pub fn start_s(self) -> i64 {
        self.start.timestamp()
    }

    /// The end as stored (Unix seconds).
    pub fn end_s(self) -> i64 {
        self.end.timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap()
    }

    #[test]
    fn back_to_back_windows_do_not_overlap() {
        let first = Window::new(at(0), 30).unwrap();
        let next = Window::new(at(30), 30).unwrap();
        assert!(!first.overlaps(next));
        assert!(!next.overlaps(first));
    }

    #[test]
    fn any_shared_minute_overlaps() {
        let first = Window::new(at(0), 30).unwrap();
        assert!(first.overlaps(Window::new(at(29), 30).unwrap()));
        assert!(first.overlaps(Window::new(at(-10), 15).unwrap()));
        assert!(first.overlaps(Window::new(at(5), 10).unwrap()));
        assert!(Window::new(at(5), 10).unwrap().overlaps(first));
    }

    #[test]
    fn lengths_are_bounded() {
        assert!(Window::new(at(0), 5).is_none());
        assert!(Window::new(at(0), 481).is_none());
        assert!(Window::new(at(0), 10).is_some());
    }
}
