//! CPU work (parsing, diffing, hashing) off the async threads, with a panic
//! on one hostile input turned into a message instead of a crashed task.

/// Runs a blocking closure on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| if e.is_panic() { "the worker panicked on this input".to_owned() } else { e.to_string() })
}
