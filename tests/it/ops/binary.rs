//! What the binary makes resident before it runs a line of our code: it stays
//! position-independent (ASLR), and its relative relocations are packed
//! (DT_RELR, build.rs) instead of a 24-byte RELA entry per pointer that the
//! dynamic loader reads, and keeps resident, at every start.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

/// `(tag, value)` of each entry of the ELF file's dynamic section, and its
/// `e_type`. Only 64-bit little-endian files: what x86_64 and aarch64 build.
fn dynamic_entries(elf: &[u8]) -> (u16, Vec<(u64, u64)>) {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!((elf[4], elf[5]), (2, 1), "not a 64-bit little-endian ELF file");
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36) as usize, u16_at(0x38) as usize);
    const PT_DYNAMIC: u32 = 2;
    let dynamic =
        (0..phnum).map(|i| phoff + i * phentsize).find(|&ph| u32_at(ph) == PT_DYNAMIC).expect("no dynamic segment");
    let (offset, size) = (u64_at(dynamic + 8) as usize, u64_at(dynamic + 0x20) as usize);
    let entries = (offset..offset + size)
        .step_by(16)
        .map(|e| (u64_at(e), u64_at(e + 8)))
        .take_while(|&(tag, _)| tag != 0)
        .collect();
    (u16_at(0x10), entries)
}

#[test]
fn the_binary_is_position_independent_with_packed_relative_relocations() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_modelwatch")).unwrap();
    let (e_type, entries) = dynamic_entries(&elf);
    const ET_DYN: u16 = 3;
    assert_eq!(e_type, ET_DYN, "the binary must stay a PIE (ASLR)");
    let tag = |t: u64| entries.iter().find(|e| e.0 == t).map(|e| e.1);
    const DT_RELASZ: u64 = 8;
    const DT_RELR: u64 = 36;
    assert!(tag(DT_RELR).is_some(), "no DT_RELR: relative relocations are not packed");
    // What is left in RELA is the few non-relative relocations (symbols from
    // libc): a few hundred entries, not one per pointer (190,000 unpacked in
    // a release build).
    let rela = tag(DT_RELASZ).unwrap_or(0);
    assert!(rela < 64 * 1024, "RELA table still {rela} bytes");
}
