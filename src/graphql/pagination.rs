//! Relay connections with opaque keyset cursors, shared by every list.
//!
//! A list resolver turns its arguments into a [`PageRequest`], fetches
//! `fetch_limit()` rows after (or before) the cursor's key in its ordering,
//! and hands them to [`connection`]. Cursors are the ordering's name plus
//! the sort key of a row, so pages stay stable while rows are inserted and
//! no query ever needs `OFFSET`.

use async_graphql::connection::{CursorType, PageInfo};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::{AppError, AppResult};

/// Page size when the client gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `first` or `last` a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which way a page reads from its cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageDirection {
    /// `first`/`after`: rows after the cursor, in the ordering.
    Forward,
    /// `last`/`before`: rows before the cursor, fetched in reverse.
    Backward,
}

/// An opaque keyset cursor: the name of the ordering it belongs to and the
/// sort key of one row (e.g. `["Nguyen", "0193…"]` for last name then id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeysetCursor {
    #[serde(rename = "o")]
    ordering: String,
    #[serde(rename = "k")]
    key: serde_json::Value,
}

impl KeysetCursor {
    /// A cursor at `key` in `ordering`.
    ///
    /// # Errors
    /// `INTERNAL` if the key cannot be serialized (a bug).
    pub fn new(ordering: &str, key: &impl Serialize) -> AppResult<Self> {
        Ok(Self {
            ordering: ordering.to_owned(),
            key: serde_json::to_value(key).map_err(anyhow::Error::from)?,
        })
    }
}

/// Why a cursor string was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid cursor")]
pub struct InvalidCursor;

impl CursorType for KeysetCursor {
    type Error = InvalidCursor;

    fn decode_cursor(encoded: &str) -> Result<Self, InvalidCursor> {
        let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| InvalidCursor)?;
        serde_json::from_slice(&json).map_err(|_| InvalidCursor)
    }

    fn encode_cursor(&self) -> String {
        // Serializing a string and a JSON value cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Validated `first`/`after`/`last`/`before` arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRequest {
    /// Rows to return.
    pub size: u64,
    /// Reading direction.
    pub direction: PageDirection,
    /// Where the page starts (exclusive); `None` for the first (or last) page.
    pub cursor: Option<KeysetCursor>,
    /// Whether the client asked for `totalCount`; counting every matching
    /// row costs a statement that grows with the table, so it runs only then.
    pub count_total: bool,
}

/// Whether the connection being resolved selects `totalCount` (also through
/// fragments).
pub fn wants_total_count(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

impl PageRequest {
    /// Checks the Relay arguments: `first` or `last` in 1..=100 (default
    /// 20), `first`/`after` not mixed with `last`/`before`, cursors well formed.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` naming the offending argument.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Self> {
        let backward = last.is_some() || before.is_some();
        if backward && (first.is_some() || after.is_some()) {
            let field = if last.is_some() { "last" } else { "before" };
            return Err(AppError::bad_input(
                field,
                "use `first`/`after` to page forward or `last`/`before` to page backward, not both",
            ));
        }
        let (size_field, size, cursor_field, cursor) = if backward {
            ("last", last, "before", before)
        } else {
            ("first", first, "after", after)
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    AppError::bad_input(
                        size_field,
                        format!("`{size_field}` must be between 1 and {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        let cursor = cursor
            .map(|encoded| {
                KeysetCursor::decode_cursor(&encoded).map_err(|_| {
                    AppError::bad_input(
                        cursor_field,
                        format!("`{cursor_field}` is not a valid cursor"),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            size,
            direction: if backward {
                PageDirection::Backward
            } else {
                PageDirection::Forward
            },
            cursor,
            count_total: true,
        })
    }

    /// The same request, counting the total only when `wanted`.
    #[must_use]
    pub fn counting(self, wanted: bool) -> Self {
        Self {
            count_total: wanted,
            ..self
        }
    }

    /// Rows to fetch: one more than the page, to learn whether more follow.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// The cursor's sort key, if the page starts at one, decoded for
    /// `ordering`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when the cursor belongs to another ordering or its
    /// key has the wrong shape.
    pub fn cursor_key<K: DeserializeOwned>(&self, ordering: &str) -> AppResult<Option<K>> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let field = match self.direction {
            PageDirection::Forward => "after",
            PageDirection::Backward => "before",
        };
        if cursor.ordering != ordering {
            return Err(AppError::bad_input(
                field,
                format!("`{field}` is a cursor of another ordering; start again without it"),
            ));
        }
        serde_json::from_value(cursor.key.clone())
            .map(Some)
            .map_err(|_| AppError::bad_input(field, format!("`{field}` is not a valid cursor")))
    }

    /// Turns the fetched rows (in fetch order: ascending when forward,
    /// descending when backward, at most `fetch_limit()` of them) into a
    /// page in the ordering's ascending order.
    pub fn into_page<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let has_more = rows.len() > size;
        rows.truncate(size);
        let started_at_cursor = self.cursor.is_some();
        match self.direction {
            PageDirection::Forward => Page {
                rows,
                has_next_page: has_more,
                has_previous_page: started_at_cursor,
            },
            PageDirection::Backward => {
                rows.reverse();
                Page {
                    rows,
                    has_next_page: started_at_cursor,
                    has_previous_page: has_more,
                }
            }
        }
    }
}

/// One page of rows, in ascending order of the ordering.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// More rows follow the last one.
    pub has_next_page: bool,
    /// More rows precede the first one.
    pub has_previous_page: bool,
}

/// One page as a Relay connection's parts: each node with its cursor, the
/// page info, and the total. The concrete `<Type>Connection` and
/// `<Type>Edge` GraphQL types (see [`connection_types!`]) are built from it.
pub struct Paged<N> {
    /// Each node with its encoded cursor.
    pub edges: Vec<(String, N)>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
    /// How many nodes match the filter across all pages.
    pub total_count: i64,
}

/// Builds a page of a connection: each row gets its cursor from
/// `cursor_of` and becomes a node through `into_node`.
///
/// # Errors
/// Whatever `cursor_of` returns.
pub fn connection<T, N>(
    page: Page<T>,
    total_count: i64,
    cursor_of: impl Fn(&T) -> AppResult<KeysetCursor>,
    into_node: impl Fn(T) -> N,
) -> AppResult<Paged<N>> {
    let mut edges = Vec::with_capacity(page.rows.len());
    for row in page.rows {
        let cursor = cursor_of(&row)?.encode_cursor();
        edges.push((cursor, into_node(row)));
    }
    Ok(Paged {
        page_info: PageInfo {
            has_previous_page: page.has_previous_page,
            has_next_page: page.has_next_page,
            start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
            end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
        },
        edges,
        total_count,
    })
}

/// Declares the `<Type>Connection` and `<Type>Edge` GraphQL types of a
/// list, with descriptions, `totalCount`, and conversion from [`Paged`].
#[macro_export]
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $connection_doc:literal, $edge_doc:literal) => {
        #[doc = $connection_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            /// The nodes of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Whether more pages follow or precede, and the cursors to reach them.
            pub page_info: async_graphql::connection::PageInfo,
            /// How many nodes match the filter, across all pages.
            pub total_count: i64,
        }

        #[doc = $edge_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this node, for `after` or `before`.
            pub cursor: String,
            #[doc = concat!("The `", stringify!($node), "` at this position of the page.")]
            pub node: $node,
        }

        impl From<$crate::graphql::pagination::Paged<$node>> for $connection {
            fn from(paged: $crate::graphql::pagination::Paged<$node>) -> Self {
                Self {
                    edges: paged
                        .edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info: paged.page_info,
                    total_count: paged.total_count,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_field(error: AppError) -> (String, String) {
        match error {
            AppError::BadUserInput { field, .. } => ("BAD_USER_INPUT".to_owned(), field),
            other => (other.code().as_str().to_owned(), String::new()),
        }
    }

    fn cursor_at(n: u32) -> String {
        KeysetCursor::new("BY_NUMBER", &n).unwrap().encode_cursor()
    }

    #[test]
    fn defaults_to_twenty_forward() {
        let page = PageRequest::new(None, None, None, None).unwrap();
        assert_eq!(page.size, 20);
        assert_eq!(page.direction, PageDirection::Forward);
        assert_eq!(page.fetch_limit(), 21);
    }

    #[test]
    fn first_must_be_between_one_and_a_hundred() {
        for bad in [0, -1, 101, i32::MAX, i32::MIN] {
            let error = PageRequest::new(Some(bad), None, None, None).unwrap_err();
            assert_eq!(
                code_and_field(error),
                ("BAD_USER_INPUT".into(), "first".into())
            );
        }
        assert_eq!(PageRequest::new(Some(1), None, None, None).unwrap().size, 1);
        assert_eq!(
            PageRequest::new(Some(100), None, None, None).unwrap().size,
            100
        );
        let error = PageRequest::new(None, None, Some(0), None).unwrap_err();
        assert_eq!(
            code_and_field(error),
            ("BAD_USER_INPUT".into(), "last".into())
        );
    }

    #[test]
    fn forward_and_backward_arguments_do_not_mix() {
        let error = PageRequest::new(Some(5), None, Some(5), None).unwrap_err();
        assert_eq!(
            code_and_field(error),
            ("BAD_USER_INPUT".into(), "last".into())
        );
        let error =
            PageRequest::new(None, Some(cursor_at(1)), None, Some(cursor_at(2))).unwrap_err();
        assert_eq!(
            code_and_field(error),
            ("BAD_USER_INPUT".into(), "before".into())
        );
    }

    #[test]
    fn bogus_cursors_are_bad_input() {
        for bogus in ["", "not base64!", "bm90IGpzb24", "e30"] {
            let error = PageRequest::new(None, Some(bogus.to_owned()), None, None).unwrap_err();
            assert_eq!(
                code_and_field(error),
                ("BAD_USER_INPUT".into(), "after".into()),
                "{bogus}"
            );
        }
    }

    #[test]
    fn cursor_round_trips_and_belongs_to_its_ordering() {
        let page = PageRequest::new(Some(3), Some(cursor_at(7)), None, None).unwrap();
        assert_eq!(page.cursor_key::<u32>("BY_NUMBER").unwrap(), Some(7));
        let error = page.cursor_key::<u32>("BY_NAME").unwrap_err();
        assert_eq!(
            code_and_field(error),
            ("BAD_USER_INPUT".into(), "after".into())
        );
        let error = page.cursor_key::<String>("BY_NUMBER").unwrap_err();
        assert_eq!(
            code_and_field(error),
            ("BAD_USER_INPUT".into(), "after".into())
        );
    }

    /// Simulates a keyset query over 1..=total: rows after/before the cursor
    /// in fetch order, at most `fetch_limit()` of them.
    fn fetch(total: u32, request: &PageRequest) -> Vec<u32> {
        let key = request.cursor_key::<u32>("BY_NUMBER").unwrap();
        let limit = request.fetch_limit() as usize;
        match request.direction {
            PageDirection::Forward => (1..=total)
                .filter(|n| key.is_none_or(|k| *n > k))
                .take(limit)
                .collect(),
            PageDirection::Backward => (1..=total)
                .rev()
                .filter(|n| key.is_none_or(|k| *n < k))
                .take(limit)
                .collect(),
        }
    }

    #[test]
    fn pages_forward_then_backward_over_a_boundary() {
        let first = PageRequest::new(Some(2), None, None, None).unwrap();
        let page = first.into_page(fetch(5, &first));
        assert_eq!(page.rows, vec![1, 2]);
        assert!(page.has_next_page && !page.has_previous_page);

        let second = PageRequest::new(Some(2), Some(cursor_at(2)), None, None).unwrap();
        let page = second.into_page(fetch(5, &second));
        assert_eq!(page.rows, vec![3, 4]);
        assert!(page.has_next_page && page.has_previous_page);

        let third = PageRequest::new(Some(2), Some(cursor_at(4)), None, None).unwrap();
        let page = third.into_page(fetch(5, &third));
        assert_eq!(page.rows, vec![5]);
        assert!(!page.has_next_page && page.has_previous_page);

        let back = PageRequest::new(None, None, Some(2), Some(cursor_at(5))).unwrap();
        let page = back.into_page(fetch(5, &back));
        assert_eq!(page.rows, vec![3, 4]);
        assert!(page.has_next_page && page.has_previous_page);

        let back_to_start = PageRequest::new(None, None, Some(2), Some(cursor_at(3))).unwrap();
        let page = back_to_start.into_page(fetch(5, &back_to_start));
        assert_eq!(page.rows, vec![1, 2]);
        assert!(page.has_next_page && !page.has_previous_page);

        let last = PageRequest::new(None, None, Some(2), None).unwrap();
        let page = last.into_page(fetch(5, &last));
        assert_eq!(page.rows, vec![4, 5]);
        assert!(!page.has_next_page && page.has_previous_page);
    }

    #[test]
    fn exact_fit_has_no_next_page() {
        let request = PageRequest::new(Some(5), None, None, None).unwrap();
        let page = request.into_page(fetch(5, &request));
        assert_eq!(page.rows.len(), 5);
        assert!(!page.has_next_page);
    }

    #[test]
    fn connection_carries_cursors_and_total() {
        let request = PageRequest::new(Some(2), None, None, None).unwrap();
        let page = request.into_page(fetch(3, &request));
        let connection = connection(
            page,
            3,
            |n| KeysetCursor::new("BY_NUMBER", n),
            |n| n.to_string(),
        )
        .unwrap();
        assert_eq!(connection.edges.len(), 2);
        assert!(connection.page_info.has_next_page);
        assert_eq!(connection.total_count, 3);
        assert_eq!(
            connection.page_info.end_cursor.as_ref(),
            Some(&connection.edges[1].0)
        );
        let cursor = connection.edges[1].0.clone();
        let next = PageRequest::new(Some(2), Some(cursor), None, None).unwrap();
        assert_eq!(next.cursor_key::<u32>("BY_NUMBER").unwrap(), Some(2));
    }
}
