//! Bounds how many malloc arenas glibc keeps, and fixes its thresholds: a
//! daemon's memory is bounded by what it holds, not by how many threads
//! once allocated nor by the largest block it ever freed.
//!
//! glibc gives each thread that allocates an arena of its own (up to eight
//! per core) and keeps what a thread frees in that thread's arena. A sweep
//! allocates on eight threads (the tokio workers, the parser and CPU pools,
//! SQLite's worker, the trim thread), each arena keeps its own high-water
//! mark, and memory free in one does not serve another: at a cold sweep's
//! peak (2,000 pages) the arenas held ~54 MB for a live heap of ~35 MB
//! (smaps and heaptrack). With two arenas the threads share their free
//! memory: cold peak RSS of 2,000 pages, `check --all` 82–84 → 75–77 MB,
//! `run` 74–77 → 70–72 MB, CPU per check within the noise; a cold sweep
//! of 1,000 pages makes 48,660 → 50,872 futex calls (README, "Benchmarks").
//! One arena holds ~3 MB less but makes 72,768: the threads then wait on
//! its lock. glibc's per-thread caches (tcache) still serve most small
//! allocations without taking an arena's lock.
//!
//! Large blocks get their own mapping, always: glibc maps a block of 128
//! KiB or more on its own and unmaps it on `free`, but the first such
//! `free` raises that threshold to the block's size (up to 32 MiB), and
//! from then on every body, decoded page and DOM of that size is carved
//! from the arenas, where a free one is kept until a trim and the pages
//! around it keep small live chunks. Fixed at [`MMAP_THRESHOLD`], they
//! come and go with their checks. The trim threshold (the free top of an
//! arena kept rather than given back at each `free`) is set with it, high:
//! setting one stops glibc's sliding of both, and a low fixed one gave
//! the top back at every large `free` (~200,000 more page faults a cold
//! sweep, README "Benchmarks"); the trimming thread ([`crate::trim`])
//! gives it back every half second instead.
//!
//! Set at start, before any thread allocates. An operator's own
//! `MALLOC_ARENA_MAX` (or `GLIBC_TUNABLES` naming `glibc.malloc.arena_max`)
//! is left as it is, and so are their own thresholds
//! (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` or the tunables).
//! Only on glibc: other allocators have their own knobs.

/// The arenas the process keeps: the main one and one more, so the two
/// cores rarely wait on the same arena's lock.
pub const MAX: i32 = 2;

/// Blocks from this size up are mapped on their own and unmapped on
/// `free`: a page body (10–150 KB in the bench, 77 KB median) stays in
/// the arenas, the larger ones and hyper's grown read buffers do not.
pub const MMAP_THRESHOLD: i32 = 128 << 10;

/// The free top an arena keeps at `free`: high, the trimming thread gives
/// it back (see the module documentation).
pub const TRIM_THRESHOLD: i32 = 32 << 20;

/// Limits glibc to [`MAX`] arenas and fixes its thresholds
/// ([`MMAP_THRESHOLD`], [`TRIM_THRESHOLD`]), each unless the environment
/// already sets it. Call first thing in `main`: threads that allocated
/// before keep the arenas they have.
pub fn bound() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").ok();
        if !operator_set(std::env::var_os("MALLOC_ARENA_MAX").is_some(), tunables.as_deref()) {
            set_max(MAX);
        }
        let env = |name: &str| std::env::var_os(name).is_some();
        if !thresholds_set(env("MALLOC_MMAP_THRESHOLD_") || env("MALLOC_TRIM_THRESHOLD_"), tunables.as_deref()) {
            set_thresholds(MMAP_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// Whether the environment already limits the arenas: glibc read it at
/// start, and it is the operator's to keep.
pub fn operator_set(arena_max_env: bool, glibc_tunables: Option<&str>) -> bool {
    arena_max_env || tunable_set(glibc_tunables, "glibc.malloc.arena_max")
}

/// Whether the environment already sets either threshold: both are then
/// left to glibc and the operator (setting one stops the sliding of both).
pub fn thresholds_set(threshold_env: bool, glibc_tunables: Option<&str>) -> bool {
    threshold_env
        || tunable_set(glibc_tunables, "glibc.malloc.mmap_threshold")
        || tunable_set(glibc_tunables, "glibc.malloc.trim_threshold")
}

fn tunable_set(glibc_tunables: Option<&str>, name: &str) -> bool {
    glibc_tunables.is_some_and(|t| t.split(':').any(|kv| kv.split_once('=').is_some_and(|(k, _)| k == name)))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_max(max: i32) {
    // SAFETY: `mallopt` takes no pointer; `M_ARENA_MAX` only bounds the
    // arenas created from now on. glibc accepts any value for it (it
    // returns 1), and logs are not set up this early anyway.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, max);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_thresholds(mmap: i32, trim: i32) {
    // SAFETY: as in `set_max`: `mallopt` takes no pointer; each setting
    // applies to the allocations and frees from now on.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, mmap);
        libc::mallopt(libc::M_TRIM_THRESHOLD, trim);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_operators_limit_is_kept() {
        assert!(!operator_set(false, None));
        assert!(operator_set(true, None));
        assert!(operator_set(false, Some("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=4")));
        assert!(!operator_set(false, Some("glibc.malloc.trim_threshold=131072")));
    }

    #[test]
    fn an_operators_thresholds_are_kept() {
        assert!(!thresholds_set(false, None));
        assert!(thresholds_set(true, None));
        assert!(thresholds_set(false, Some("glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=65536")));
        assert!(thresholds_set(false, Some("glibc.malloc.trim_threshold=131072")));
        assert!(!thresholds_set(false, Some("glibc.malloc.arena_max=4")));
        assert!(!thresholds_set(false, Some("glibc.malloc.mmap_threshold_x=1")));
    }

    /// What `child` (an ignored test of this module) prints after `prefix`,
    /// run alone in a fresh process (see [`crate::test_child::in_child`]).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn in_child(child: &str, mode: &str, prefix: &str) -> String {
        crate::test_child::in_child(&format!("arenas::tests::{child}"), mode, prefix)
    }

    /// Whether a 200 KB block, allocated after a 1 MiB one was freed, is
    /// mapped on its own (glibc's count of mapped blocks, `hblks`), with or
    /// without the fixed thresholds.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn mapped_after_a_large_free_in_child(fixed: bool) -> bool {
        in_child("child_frees_a_large_block", if fixed { "fixed" } else { "sliding" }, "mapped=") == "true"
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn large_blocks_stay_mapped_on_their_own_after_a_larger_one_is_freed() {
        // glibc's sliding threshold carves the 200 KB block from an arena
        // once a 1 MiB block was freed; fixed, it is mapped (and unmapped
        // at its `free`).
        assert!(!mapped_after_a_large_free_in_child(false));
        assert!(mapped_after_a_large_free_in_child(true));
    }

    /// Run by [`mapped_after_a_large_free_in_child`] only.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[ignore = "run in a child process by large_blocks_stay_mapped_on_their_own_after_a_larger_one_is_freed"]
    #[allow(unsafe_code)]
    fn child_frees_a_large_block() {
        if crate::test_child::child_mode().as_deref() == Some("fixed") {
            set_thresholds(MMAP_THRESHOLD, TRIM_THRESHOLD);
        }
        drop(std::hint::black_box(vec![1u8; 1 << 20]));
        // SAFETY: `mallinfo2` takes no pointer and only reads counters.
        let before = unsafe { libc::mallinfo2() }.hblks;
        let block = std::hint::black_box(vec![1u8; 200 << 10]);
        let after = unsafe { libc::mallinfo2() }.hblks;
        println!("mapped={}", after > before);
        drop(block);
    }

    /// The arenas glibc has, from `malloc_info`'s `<heap nr=…>` entries.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    fn arenas() -> usize {
        let mut buf: *mut libc::c_char = std::ptr::null_mut();
        let mut len: libc::size_t = 0;
        // SAFETY: the stream writes into a buffer glibc allocates; it is
        // read after `fclose` sets `buf`/`len`, then freed with `free`.
        unsafe {
            let stream = libc::open_memstream(&mut buf, &mut len);
            assert!(!stream.is_null());
            assert_eq!(libc::malloc_info(0, stream), 0);
            libc::fclose(stream);
            let xml = std::slice::from_raw_parts(buf as *const u8, len);
            let count = String::from_utf8_lossy(xml).matches("<heap nr=").count();
            libc::free(buf.cast());
            count
        }
    }

    /// How many arenas eight threads allocating at the same time leave,
    /// with or without the bound.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn arenas_in_child(bounded: bool) -> usize {
        in_child("child_eight_threads_allocate", if bounded { "bounded" } else { "unbounded" }, "arenas=")
            .parse()
            .unwrap()
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn threads_allocating_at_once_share_the_bounded_arenas() {
        // glibc allows eight arenas per core: without the bound the eight
        // threads take arenas of their own.
        assert!(arenas_in_child(false) > MAX as usize + 2);
        assert!(arenas_in_child(true) <= MAX as usize);
    }

    /// Run by [`arenas_in_child`] only.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[ignore = "run in a child process by threads_allocating_at_once_share_the_bounded_arenas"]
    fn child_eight_threads_allocate() {
        if crate::test_child::child_mode().as_deref() == Some("bounded") {
            set_max(MAX);
        }
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(9));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    // Small blocks, from the arena (not mmap), held until
                    // every thread has allocated.
                    let blocks: Vec<Vec<u8>> = (0..256).map(|j| vec![(i + j) as u8 | 1; 2048]).collect();
                    barrier.wait();
                    barrier.wait();
                    drop(std::hint::black_box(blocks));
                })
            })
            .collect();
        barrier.wait();
        println!("arenas={}", arenas());
        barrier.wait();
        for t in threads {
            t.join().unwrap();
        }
    }
}
