//! `backup --output FILE` while checks run: the copy passes
//! `PRAGMA integrity_check` and opens with the binary.

use crate::support::{Backend, Mw, Page, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_checks_run_is_whole_and_opens() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let server = TestServer::start().await;
    let n = 30;
    for i in 0..n {
        let body =
            format!("<html><body><article><p>通义千问 第{i}篇 {}</p></article></body></html>", "内容 ".repeat(200));
        server.set(&format!("/p{i}"), Page::html(body));
        mw.add(&server.url(&format!("/p{i}")), &[]).await;
    }

    // Checks write snapshots while backups are taken.
    let checks = {
        let mut cmd = mw.command(&["check", "--all", "--format", "json"]);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let mut copies = Vec::new();
    for k in 0..3 {
        let out = mw.path().join(format!("backup-{k}.db"));
        let r = mw.run_async(&["backup", "--output", out.to_str().unwrap()]).await.ok();
        assert!(r.stderr.contains("integrity_check ok"), "{}", r.stderr);
        copies.push(out);
    }
    let checked = checks.await.unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let last = mw.path().join("backup-final.db");
    mw.run_async(&["backup", "--output", last.to_str().unwrap()]).await.ok();
    copies.push(last.clone());

    for copy in &copies {
        // An independent reader: the sqlite3 library through sqlx, read-only.
        let url = format!("sqlite://{}?mode=ro", copy.display());
        let db = sea_orm::Database::connect(&url).await.unwrap();
        use sea_orm::ConnectionTrait;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok", "{}", copy.display());
        db.close().await.ok();
        assert!(!copy.with_extension("db-wal").exists(), "a backup is one file");
    }

    // The final copy opens with the binary and holds every source and snapshot.
    let mut restored = Mw::new(Backend::Sqlite).await.unwrap();
    restored.env.push(("MODELWATCH_DATABASE_URL".into(), format!("sqlite://{}?mode=rwc", last.display())));
    let list = restored.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), n);
    assert!(list.iter().all(|s| s["status"] == "ok"), "{list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_refuses_what_it_cannot_do_well() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let out = mw.path().join("b.db");
    // No database yet: nothing is created, nothing copied.
    let r = mw.run_async(&["backup", "--output", out.to_str().unwrap()]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no database"), "{}", r.stderr);
    assert!(!mw.path().join("modelwatch.db").exists());

    mw.init().await;
    std::fs::write(&out, "precious").unwrap();
    let r = mw.run_async(&["backup", "--output", out.to_str().unwrap()]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    mw.run_async(&["backup", "--output", out.to_str().unwrap(), "--force"]).await.ok();
    assert!(std::fs::read(&out).unwrap().starts_with(b"SQLite format 3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_backup_prints_the_pg_dump_command_without_the_password() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.env.push(("MODELWATCH_DATABASE_URL".into(), "postgres://mw:s3cret@db.internal:5432/mw".into()));
    let r = mw.run_async(&["backup", "--output", "/backups/mw.dump"]).await;
    assert_eq!(r.code, 2, "no file was written: not a success\n{}", r.stderr);
    assert_eq!(
        r.stdout.trim(),
        "pg_dump --format=custom --no-owner --file='/backups/mw.dump' --dbname='postgres://mw@db.internal:5432/mw'"
    );
    assert!(!r.stdout.contains("s3cret") && !r.stderr.contains("s3cret"));
}
