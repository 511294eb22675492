//! The binary's code layout (build.rs, `link/`): the functions a sweep runs
//! sit together in `.text.hot`, so the pages a daemon keeps resident are
//! those few MB, not most of `.text`. Read from the built binary's own ELF
//! headers and symbol table.

/// Little-endian fields of an ELF64 file.
struct Elf<'a>(&'a [u8]);

impl Elf<'_> {
    fn u16(&self, at: usize) -> usize {
        usize::from(u16::from_le_bytes([self.0[at], self.0[at + 1]]))
    }

    fn u32(&self, at: usize) -> usize {
        let mut b = [0; 4];
        b.copy_from_slice(&self.0[at..at + 4]);
        u32::from_le_bytes(b) as usize
    }

    fn u64(&self, at: usize) -> u64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(b)
    }

    fn name(&self, at: usize) -> &str {
        let end = self.0[at..].iter().position(|&b| b == 0).map_or(self.0.len(), |n| at + n);
        std::str::from_utf8(&self.0[at..end]).unwrap_or("")
    }

    /// (name, address, file offset, size, link) of each section header.
    fn sections(&self) -> Vec<(String, u64, usize, usize, usize)> {
        let (off, size, count) = (self.u64(0x28) as usize, self.u16(0x3a), self.u16(0x3c));
        let names = off + self.u16(0x3e) * size;
        let names = self.u64(names + 24) as usize;
        (0..count)
            .map(|i| {
                let h = off + i * size;
                let name = self.name(names + self.u32(h)).to_owned();
                (name, self.u64(h + 16), self.u64(h + 24) as usize, self.u64(h + 32) as usize, self.u32(h + 40))
            })
            .collect()
    }

    /// (name, address) of each function in the symbol table.
    fn functions(&self) -> Vec<(String, u64)> {
        let sections = self.sections();
        let Some(&(_, _, off, size, link)) = sections.iter().find(|s| s.0 == ".symtab") else {
            return Vec::new();
        };
        let strings = sections[link].2;
        (off..off + size)
            .step_by(24)
            .filter(|&s| self.0[s + 4] & 0xf == 2)
            .map(|s| (self.name(strings + self.u32(s)).to_owned(), self.u64(s + 8)))
            .collect()
    }
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
fn a_sweeps_functions_are_linked_together_and_the_rest_after() {
    if std::env::var_os("MODELWATCH_NO_HOT_TEXT").is_some() {
        return; // built without the layout, on purpose
    }
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_modelwatch")).unwrap();
    let elf = Elf(&bytes);
    let hot = elf.sections().into_iter().find(|s| s.0 == ".text.hot");
    let (_, start, _, size, _) = hot.expect("no .text.hot section: build.rs did not pass link/hot-text.ld");
    let hot = start..start + size as u64;
    let functions = elf.functions();
    let at = |prefix: &str| -> Vec<u64> { functions.iter().filter(|f| f.0.starts_with(prefix)).map(|f| f.1).collect() };

    // Run on every page a sweep reads (in link/hot-symbols.txt).
    let furniture = at("_ZN10modelwatch7extract11boilerplate12is_furniture17h");
    assert!(!furniture.is_empty(), "is_furniture not in the symbol table");
    assert!(furniture.iter().all(|a| hot.contains(a)), "is_furniture outside .text.hot");
    // PDF reading: none of a sweep of HTML pages, so after the hot code.
    let pdf = at("_ZN11oxidize_pdf");
    assert!(!pdf.is_empty(), "no oxidize_pdf function in the symbol table");
    assert!(pdf.iter().all(|a| !hot.contains(a)), "PDF code inside .text.hot");
}
