//! The binary's code layout (build.rs, `link/`): the functions a sweep runs
//! sit together in `.text.hot`, so the pages a daemon keeps resident are
//! those few MB, not most of `.text`. Read from the built binary's own
//! section headers and symbol table.

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
fn a_sweeps_functions_are_linked_together_and_the_rest_after() {
    use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

    if std::env::var_os("MODELWATCH_NO_HOT_TEXT").is_some() {
        return; // built without the layout, on purpose
    }
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_modelwatch")).unwrap();
    let elf = object::File::parse(bytes.as_slice()).unwrap();
    let hot = elf.section_by_name(".text.hot").expect("no .text.hot section: build.rs did not pass link/hot-text.ld");
    let hot = hot.address()..hot.address() + hot.size();
    let at = |prefix: &str| -> Vec<u64> {
        elf.symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.name().is_ok_and(|n| n.starts_with(prefix)))
            .map(|s| s.address())
            .collect()
    };

    // Run on every page a sweep reads (in link/hot-symbols.txt).
    let furniture = at("_ZN10modelwatch7extract11boilerplate12is_furniture17h");
    assert!(!furniture.is_empty(), "is_furniture not in the symbol table");
    assert!(furniture.iter().all(|a| hot.contains(a)), "is_furniture outside .text.hot");
    // PDF reading: none of a sweep of HTML pages, so after the hot code.
    let pdf = at("_ZN11oxidize_pdf");
    assert!(!pdf.is_empty(), "no oxidize_pdf function in the symbol table");
    assert!(pdf.iter().all(|a| !hot.contains(a)), "PDF code inside .text.hot");
}
