//! Keyset paging helpers shared by the services' list queries.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, prelude::Uuid,
};

use crate::{
    error::AppResult,
    graphql::pagination::{Page, PageDirection, PageRequest},
};

/// Fetches one page of `query` ordered newest first by a UUIDv7 `id`
/// column (UUIDv7 sorts by creation time), with the total count.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another ordering; database failures.
pub async fn newest_first<E, C>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: C,
    ordering: &str,
    page: &PageRequest,
) -> AppResult<(Page<E::Model>, i64)>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ColumnTrait,
{
    let total = i64::try_from(query.clone().count(db).await?).unwrap_or(i64::MAX);
    let forward = page.direction == PageDirection::Forward;
    let mut query = query;
    if let Some(cursor) = page.cursor_key::<Uuid>(ordering)? {
        // Newest first: the next page holds older (smaller) ids.
        query = query.filter(if forward {
            id.lt(cursor)
        } else {
            id.gt(cursor)
        });
    }
    let rows = query
        .order_by(id, if forward { Order::Desc } else { Order::Asc })
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok((page.into_page(rows), total))
}
