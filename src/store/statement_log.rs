//! `MODELWATCH_STATEMENT_LOG=FILE`: every statement the store sends, one
//! line each, appended to FILE — how many statements a check costs and
//! which (issue 12: the figures in `runner::catalog` and
//! `store::catalog::shared_steps` were counted this way). Off unless set:
//! the callback is not installed at all. Set, each statement costs a
//! `write` to FILE from sea-orm's callback, on whatever thread ran the
//! statement (async threads included): a measuring aid, not for a
//! production daemon.
//!
//! A line is the statement's text with each `VALUES` list of bound rows
//! written `VALUES …`, so the same statement of any row count is one line
//! (`sort | uniq -c` groups them). Transaction control (BEGIN, SAVEPOINT, COMMIT) is not a statement
//! here: the driver sends it outside sea-orm's metric hook.

use std::io::Write;
use std::sync::Mutex;

use sea_orm::DatabaseConnection;

/// The environment variable naming the log file.
pub const ENV: &str = "MODELWATCH_STATEMENT_LOG";

/// How much of a statement's text a line keeps.
const SHAPE_CHARS: usize = 120;

/// Installs the statement log on `db` when [`ENV`] names a file that can
/// be opened for appending (a warning otherwise).
pub(super) fn install(db: &mut DatabaseConnection) {
    let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else { return };
    let file = match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(path = %std::path::Path::new(&path).display(), error = %e, "Cannot open the statement log");
            return;
        }
    };
    let file = Mutex::new(file);
    db.set_metric_callback(move |info| {
        let line = shape(&info.statement.sql);
        if let Ok(mut file) = file.lock() {
            // One write per line: lines of two processes do not interleave.
            let _ = file.write_all(format!("{line}\n").as_bytes());
        }
    });
}

/// The statement on one line, each `VALUES` list of bound rows as one
/// `VALUES …`, cut at [`SHAPE_CHARS`].
fn shape(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(one_line.len());
    let mut rest = one_line.as_str();
    while let Some(at) = rest.find("VALUES (") {
        out.push_str(&rest[..at]);
        out.push_str("VALUES …");
        rest = &rest[at + "VALUES ".len()..];
        // Skip the rows: parenthesised groups separated by ", ".
        loop {
            let mut depth = 0usize;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &rest[end..];
            match rest.strip_prefix(", (") {
                Some(_) => rest = &rest[2..],
                None => break,
            }
        }
    }
    out.push_str(rest);
    out.chars().take(SHAPE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_of_any_row_count_is_one_shape() {
        let one = "WITH v (a, b) AS (VALUES (?, ?)) INSERT INTO t SELECT * FROM v";
        let two = "WITH v (a, b) AS (VALUES (?, ?), (?, ?)) INSERT INTO t SELECT * FROM v";
        assert_eq!(shape(one), shape(two));
        assert_eq!(shape(one), "WITH v (a, b) AS (VALUES …) INSERT INTO t SELECT * FROM v");
        assert_eq!(shape("SELECT\n  1"), "SELECT 1");
    }
}
