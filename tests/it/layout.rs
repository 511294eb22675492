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

/// The link arguments name copies of the lists in the build's own output
/// folder, never the checkout's `link/`: Cargo replays a build script's
/// arguments without rerunning it for another checkout of the same commit
/// that shares the target folder, and a path into a deleted checkout
/// failed the link. Read from the build script's recorded output (Cargo
/// keeps it beside `OUT_DIR`).
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
fn the_layout_lists_are_linked_from_the_builds_own_folder() {
    if std::env::var_os("MODELWATCH_NO_HOT_TEXT").is_some() {
        return; // built without the layout, on purpose
    }
    let out_dir = std::path::Path::new(env!("OUT_DIR"));
    let recorded = out_dir.parent().unwrap().join("output");
    let recorded = std::fs::read_to_string(&recorded).unwrap_or_else(|e| panic!("{}: {e}", recorded.display()));
    let lists: Vec<&str> = recorded
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rustc-link-arg-bins="))
        .filter_map(|arg| arg.strip_prefix("-Wl,-T,").or_else(|| arg.strip_prefix("-Wl,--symbol-ordering-file=")))
        .collect();
    assert_eq!(lists.len(), 2, "the linker script and the ordering file: {recorded}");
    for list in lists {
        let path = std::path::Path::new(list);
        assert!(path.starts_with(out_dir), "{list} is not in {}", out_dir.display());
        let copy = std::fs::metadata(path).unwrap_or_else(|e| panic!("{list}: {e}"));
        assert!(copy.len() > 0, "{list} is empty");
    }
}
