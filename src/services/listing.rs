//! Keyset paging helpers shared by the services' list queries.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
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
    let total = total_count(db, &query, page).await?;
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

/// Fetches one page of `query` ordered by an appointment's start (Unix
/// seconds) then id, with the total count; the cursor is `(start, id)`.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another ordering; database failures.
pub async fn by_start<E, S, C>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    (start, id): (S, C),
    ordering: &str,
    page: &PageRequest,
) -> AppResult<(Page<E::Model>, i64)>
where
    E: EntityTrait,
    E::Model: Sync,
    S: ColumnTrait,
    C: ColumnTrait,
{
    let total = total_count(db, &query, page).await?;
    let forward = page.direction == PageDirection::Forward;
    let mut query = query;
    if let Some((at_start, at_id)) = page.cursor_key::<(i64, Uuid)>(ordering)? {
        let key = Expr::tuple([Expr::col(start), Expr::col(id)]);
        let at = Expr::tuple([Expr::value(at_start), Expr::value(at_id)]);
        query = query.filter(if forward { key.gt(at) } else { key.lt(at) });
    }
    let order = if forward { Order::Asc } else { Order::Desc };
    let rows = query
        .order_by(start, order.clone())
        .order_by(id, order)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    Ok((page.into_page(rows), total))
}

/// How many rows `query` matches, when the page asks for it (`totalCount`
/// selected); otherwise 0 without running the count.
///
/// # Errors
/// Database failures.
pub async fn total_count<E>(
    db: &impl ConnectionTrait,
    query: &Select<E>,
    page: &PageRequest,
) -> AppResult<i64>
where
    E: EntityTrait,
    E::Model: Sync,
{
    if !page.count_total {
        return Ok(0);
    }
    Ok(i64::try_from(query.clone().count(db).await?).unwrap_or(i64::MAX))
}
