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
}
