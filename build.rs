//! Link-time settings of the `modelwatch` binaries.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        // The binary is position-independent (ASLR), so every pointer in its
        // static data — vtables, string tables, chrono-tz's time spans — has a
        // relative relocation the dynamic loader applies at start, reading
        // the whole relocation table: 24 bytes a pointer, 4.6 MB (release)
        // resident for the process's life. Packed (DT_RELR, glibc 2.36+:
        // Debian 12, the container's base) the table is a 73 KB bitmap.
        // Same pointers, same ASLR; only the table's encoding changes
        // (README, Benchmarks).
        println!("cargo:rustc-link-arg=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-env-changed=MODELWATCH_NO_HOT_TEXT");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let layout =
        os == "linux" && env == "gnu" && arch == "x86_64" && std::env::var_os("MODELWATCH_NO_HOT_TEXT").is_none();
    if layout && other_linker() {
        // `--symbol-ordering-file` is lld's: GNU ld would refuse it and fail
        // the link. The binary works the same without the layout.
        println!("cargo:warning=a linker is configured: built without the code layout of link/ (README, Benchmarks)");
    } else if layout {
        // The code a sweep runs, placed first and together. A page of code
        // is resident once any of it ran, and the kernel maps the 64 KB
        // around each fault: the ~6 MB of functions a sweep runs, spread
        // over a 27 MB `.text`, kept ~20 MB of it resident in every phase.
        // `hot-text.ld` gathers them by name without their hashes (which
        // change with build settings and dependency versions) into a
        // `.text.hot` before `.text`; `hot-symbols.txt` has the exact names
        // of a release and a profiling build and orders those first, ahead
        // of the other instances of a generic the globs catch. Both come from
        // `scripts/hot-code`; a name no longer in the binary only loses its
        // place. lld options: rustc links with lld on x86_64 Linux
        // (`MODELWATCH_NO_HOT_TEXT=1` for a build with another linker).
        println!("cargo:rerun-if-changed=link/hot-text.ld");
        println!("cargo:rerun-if-changed=link/hot-symbols.txt");
        match copy_to_out_dir(&dir, &["hot-text.ld", "hot-symbols.txt"]) {
            Ok(out) => {
                println!("cargo:rustc-link-arg-bins=-Wl,-T,{out}/hot-text.ld");
                println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={out}/hot-symbols.txt");
                println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
            }
            Err(e) => println!("cargo:warning=built without the code layout of link/: {e}"),
        }
    }
}

/// Copies the layout lists into this build's `OUT_DIR` and returns it, so
/// the link arguments name files that live as long as the build output
/// they were emitted for. Cargo keys a build script's output by the
/// package's metadata, not by the checkout's path: two checkouts of the
/// same commit sharing one `CARGO_TARGET_DIR` share it, and when the
/// script does not rerun (its inputs are older than its last run) Cargo
/// replays the old arguments. Arguments naming `CARGO_MANIFEST_DIR/link/…`
/// then pointed into the other checkout, and the link failed once that
/// checkout was deleted.
fn copy_to_out_dir(manifest_dir: &str, names: &[&str]) -> Result<String, String> {
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    for name in names {
        let from = format!("{manifest_dir}/link/{name}");
        std::fs::copy(&from, format!("{out}/{name}")).map_err(|e| format!("{from}: {e}"))?;
    }
    Ok(out)
}

/// Whether the build names a linker of its own (`target.*.linker`, which
/// Cargo passes as `RUSTC_LINKER`, or a `-C linker…`/`-fuse-ld=` flag that is
/// not lld) instead of the rust-lld rustc uses on x86_64 Linux.
fn other_linker() -> bool {
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    std::env::var_os("RUSTC_LINKER").is_some()
        || std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| {
            flags.split('\x1f').any(|f| f.contains("linker") || (f.contains("fuse-ld") && !f.contains("lld")))
        })
}
