//! Gives the allocator's free pages back to the kernel while checks run.
//!
//! glibc keeps what a thread frees in that thread's arena, for reuse. A
//! sweep allocates on eight threads (the tokio workers, the parser and CPU
//! pools, SQLite's worker), each arena keeps its own high-water mark, and
//! the sum of those marks is what the process holds: a cold sweep of 2,000
//! pages peaked at ~83 MB of RSS while its live heap never passed 32 MB
//! (heaptrack). `malloc_trim(0)` hands every whole free page of every arena
//! back (`MADV_DONTNEED`), and a page given back costs a page fault when it
//! is used again. Trimming on every `free` (a fixed `M_TRIM_THRESHOLD` or
//! `M_MMAP_THRESHOLD`) pays that fault again and again: +200,000 faults and
//! ~4% more CPU per check in that sweep for −8 MB. A trim every half second
//! pays ~40,000 (<1%) for most of the gain (figures in the README's
//! benchmark section). A trim that gives nothing back (an idle daemon)
//! doubles the wait, up to a minute.
//!
//! Only on glibc: other allocators have no `malloc_trim`, and musl's gives
//! memory back on its own.

use std::time::Duration;

/// The wait between two trims while they give memory back.
pub const EVERY: Duration = Duration::from_millis(500);

/// The longest wait, reached when trims keep finding nothing to give back.
pub const IDLE_MAX: Duration = Duration::from_secs(60);

/// Starts the trimming thread, once per process (later calls do nothing).
/// Without glibc, or if the thread cannot be started, memory is simply
/// not trimmed.
pub fn start() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static STARTED: std::sync::Once = std::sync::Once::new();
        STARTED.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("malloc-trim".to_owned())
                // It calls one libc function: no deep stack needed.
                .stack_size(64 << 10)
                .spawn(|| {
                    let mut wait = EVERY;
                    loop {
                        std::thread::sleep(wait);
                        wait = next_wait(wait, trim());
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "Cannot start the memory trimming thread; memory is not trimmed.");
            }
        });
    }
}

/// The wait before the next trim: [`EVERY`] after a trim that gave memory
/// back, twice the last wait (at most [`IDLE_MAX`]) after one that did not.
pub fn next_wait(last: Duration, released: bool) -> Duration {
    if released { EVERY } else { last.saturating_mul(2).min(IDLE_MAX) }
}

/// Gives the free pages of every arena back to the kernel; whether any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn trim() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition: it
    // locks each arena in turn and releases only memory that is free.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_while_nothing_is_released_and_comes_back_once_something_is() {
        let mut wait = EVERY;
        let mut waits = Vec::new();
        for _ in 0..8 {
            wait = next_wait(wait, false);
            waits.push(wait.as_secs());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(next_wait(IDLE_MAX, true), EVERY);
    }

    /// Resident memory of this process, from `/proc/self/status`.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident_bytes() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }

    /// 64 MiB freed below a block still in use stays resident (glibc gives
    /// back only the top of a heap on its own); a trim gives it back. On a
    /// thread of its own, so the blocks share one arena.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_gives_back_memory_freed_below_a_live_block() {
        std::thread::spawn(|| {
            const BLOCK: usize = 16 << 10;
            // Never zero: a zeroed block may come untouched from the kernel.
            let blocks: Vec<Vec<u8>> = (0..(64 << 20) / BLOCK).map(|i| vec![i as u8 | 1; BLOCK]).collect();
            let live = std::hint::black_box(vec![1u8; BLOCK]);
            drop(blocks);
            let before = resident_bytes();
            assert!(trim(), "the trim found nothing to give back");
            let after = resident_bytes();
            // Other tests allocate meanwhile: half of the 64 MiB is margin.
            assert!(before.saturating_sub(after) >= 32 << 20, "resident {before} → {after} bytes");
            drop(live);
        })
        .join()
        .unwrap();
    }
}
