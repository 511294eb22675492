//! Row limits that do not make SQLite prepare their statement again at
//! every execution.
//!
//! SQLite (3.51, bundled) reads a bound `LIMIT ?` as a number when it plans
//! a statement, and so marks the statement to be planned again whenever
//! that parameter is bound anew (`sqlite3ExprIsInteger` sets the
//! parameter's bit in the statement's `expmask`). sqlx binds every
//! parameter at every execution, so each execution of a statement with a
//! bound limit was a full re-preparation: every sea-orm `.one()` (which
//! adds `LIMIT ?`), the candidate and revision reads of a cold sweep's
//! catalog steps, the daemon's claims, the snapshot lookups of an edited
//! page. Issue 12, found with a breakpoint on `sqlite3Reprepare`: every
//! statement it re-prepared had a bound limit (100-page daemon sweep: 122
//! re-preparations cold, 9 unchanged, 45 after edits); callgrind of a
//! 300-page daemon sweep: 200 re-preparations cold (20.5 M instructions),
//! 23 in the unchanged sweep (8.9 M, 3.8% of that sweep's instructions); a
//! native profile of a cold 2,000-page daemon sweep: 5.5% of the SQLite
//! worker thread's samples.
//!
//! `LIMIT +?` is the same limit, an expression SQLite evaluates when the
//! statement runs instead of a value it plans with (a unary plus does not
//! change an integer): the statement is prepared once and then found in the
//! driver's statement cache. PostgreSQL plans a bound limit generically and
//! is left alone.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QuerySelect, QueryTrait, Select, Statement};

/// `stmt` with each bound `LIMIT ?` written `LIMIT +?` on SQLite; the
/// parameters keep their order, so the values need no change.
pub(crate) fn stable_limit(mut stmt: Statement) -> Statement {
    if stmt.db_backend == DbBackend::Sqlite {
        stmt.sql = stmt.sql.replace(" LIMIT ?", " LIMIT +?");
    }
    stmt
}

/// The first row `select` finds, as sea-orm's `.one()` reads it, with its
/// limit as [`stable_limit`] writes it.
pub(crate) async fn first<E, C>(select: Select<E>, db: &C) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let stmt = stable_limit(select.limit(1).build(db.get_database_backend()));
    E::find().from_raw_sql(stmt).one(db).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

    use super::*;
    use crate::store::entity::sources;

    #[test]
    fn a_bound_limit_becomes_an_expression_on_sqlite_only() {
        let select = || {
            sources::Entity::find()
                .filter(sources::Column::Url.eq("https://example.com/"))
                .order_by_desc(sources::Column::Id)
                .limit(3)
        };
        let sqlite = stable_limit(select().build(DbBackend::Sqlite));
        assert!(sqlite.sql.ends_with(" LIMIT +?"), "{}", sqlite.sql);
        assert!(!sqlite.sql.contains(" LIMIT ?"), "{}", sqlite.sql);
        assert_eq!(sqlite.values, select().build(DbBackend::Sqlite).values, "the same values, in the same order");
        let postgres = select().build(DbBackend::Postgres);
        assert_eq!(stable_limit(postgres.clone()), postgres);
    }

    /// The reads written with [`stable_limit`] return what they did with a
    /// bound limit, on a real database: a source's newest snapshots, one
    /// snapshot, the first row of a select, a claim of a few due sources.
    async fn limited_reads_keep_their_rows(postgres: bool) {
        use crate::store::batch::tests::{add_page, edited, finish, open};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let source = add_page(&store, "https://www.qbitai.com/2024/09/0.html").await;
        let mut ids = Vec::new();
        for n in 0..3 {
            let recorded = store.record_check(edited(source.id, ids.last().copied(), &format!("第 {n} 版"))).await;
            ids.push(recorded.unwrap().snapshot_id.unwrap());
        }
        let recent = store.recent_snapshot_hashes(source.id, 2).await.unwrap();
        assert_eq!(recent.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [ids[2], ids[1]], "newest first, two");
        assert_eq!(recent[0].1, store.snapshot_hash(ids[2]).await.unwrap().unwrap());
        assert_eq!(store.get_snapshot(ids[0]).await.unwrap().unwrap().text, "第 0 版");
        assert!(store.get_snapshot(ids[2] + 1000).await.unwrap().is_none());
        let newest = first(
            sources::Entity::find().filter(sources::Column::Id.gte(0)).order_by_desc(sources::Column::Id),
            store.db(),
        )
        .await
        .unwrap();
        assert_eq!(newest.map(|s| s.id), Some(source.id.0));

        for n in 1..6 {
            add_page(&store, &format!("https://www.qbitai.com/2024/09/{n}.html")).await;
        }
        let later = chrono::Utc::now() + chrono::Duration::days(30);
        let lease = std::time::Duration::from_secs(60);
        let claimed = store.claim_due(later, "test:1", lease, 3).await.unwrap();
        assert_eq!(claimed.len(), 3, "the limit holds");
        let rest = store.claim_due(later, "test:2", lease, 10).await.unwrap();
        assert_eq!(rest.len(), 3, "six sources, three claimed before");
        finish(store, pg).await;
    }

    #[tokio::test]
    async fn limited_reads_keep_their_rows_on_sqlite() {
        limited_reads_keep_their_rows(false).await;
    }

    #[tokio::test]
    async fn limited_reads_keep_their_rows_on_postgres() {
        limited_reads_keep_their_rows(true).await;
    }
}
