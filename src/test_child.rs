//! For tests that measure the allocator: an ignored test run alone in a
//! child process (this test binary's other tests allocate and make arenas
//! meanwhile), and the heap in use.

/// What `test` (the full path of an ignored test of this binary) prints
/// after `prefix`, run alone in a fresh process with
/// `MODELWATCH_CHILD_TEST=mode` and none of the operator's malloc settings.
pub(crate) fn in_child(test: &str, mode: &str, prefix: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap_or_default())
        .args(["--exact", test, "--ignored", "--nocapture"])
        .env("MODELWATCH_CHILD_TEST", mode)
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("MALLOC_MMAP_THRESHOLD_")
        .env_remove("MALLOC_TRIM_THRESHOLD_")
        .env_remove("GLIBC_TUNABLES")
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!("cannot run {test} in a child process: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    match stdout.lines().find_map(|l| l.strip_prefix(prefix)) {
        Some(value) => value.trim().to_owned(),
        None => panic!("{test} printed no {prefix}: {stdout}"),
    }
}

/// The mode [`in_child`] gave this process; `None` outside such a child.
pub(crate) fn child_mode() -> Option<String> {
    std::env::var("MODELWATCH_CHILD_TEST").ok()
}

/// Bytes the allocator has handed out and not had back, over all arenas
/// and mapped blocks (glibc's `mallinfo2`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn heap_in_use() -> usize {
    // SAFETY: `mallinfo2` takes no pointer and only reads counters.
    let info = unsafe { libc::mallinfo2() };
    info.uordblks + info.hblkhd
}
