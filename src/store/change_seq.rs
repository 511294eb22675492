//! The change sequence counter: numbers handed out inside the writing
//! transaction, so a digest can cover "every change up to N" without
//! skipping one still in flight.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// Hands out `n` change sequence numbers inside the caller's transaction and
/// returns the first; the caller numbers its `n` changes from there.
///
/// The counter is one row, updated in place: on PostgreSQL the row lock is
/// held until the transaction ends, so a second writer waits here until the
/// first has committed (or rolled back, which gives its numbers back). Numbers
/// therefore become visible in the order they were handed out, and "every
/// change up to the highest visible number" never skips one still in flight.
/// On SQLite the single writer gives the same order. Call it as late in the
/// transaction as possible: the wait is from here to commit.
pub async fn reserve_seq(db: &impl ConnectionTrait, n: u32) -> Result<i64, DbErr> {
    let value = Alias::new("value");
    let stmt = Query::update()
        .table(Alias::new("change_seq"))
        .value(value.clone(), Expr::col(value.clone()).add(i64::from(n)))
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .returning(Query::returning().column(value))
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change_seq counter row (migration not run?)".to_owned()))?;
    let last: i64 = row.try_get("", "value")?;
    Ok(last - i64::from(n) + 1)
}
