//! No import circles between the sibling modules of one top-level module
//! (`src/catalog/{candidates,matcher,rules}` was one): each module of
//! `src/<top>/` may use its siblings only in one direction, so it can be
//! read and tested from the leaves up.
//!
//! Read from the source text: every `super::…` and `crate::…` path outside
//! comments and the inline test module (`mod tests { … }`, by convention
//! at the end of a file), with the parent's `pub use` re-exports resolved
//! to the module that owns the item. Circles between top-level modules
//! (issue 10) are not this check's business.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Circles tolerated while they are being opened: one edge of each
/// (parent, from, to), left out of the graph. None today; opening one makes
/// its line stale, and the test says so.
const KNOWN: &[(&str, &str, &str)] = &[];

/// A parsed source file: its module path (`["catalog", "rules", "params"]`)
/// and its code.
struct File {
    module: Vec<String>,
    is_mod_rs: bool,
    code: String,
}

fn load(root: &Path, dir: &Path, out: &mut Vec<File>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            load(root, &path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap().with_extension("");
        let mut module: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        let stem = module.pop().unwrap();
        let is_mod_rs = matches!(stem.as_str(), "mod" | "lib" | "main");
        if !is_mod_rs {
            module.push(stem);
        }
        out.push(File { module, is_mod_rs, code: code_of(&std::fs::read_to_string(&path).unwrap()) });
    }
}

/// The text without comment lines and without the inline module at the end.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("mod ") && t.trim_end().ends_with('{') {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let n = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..n]
}

/// The first segment of each item of a `{…}` group (`{a, b::c, d::{e}}` →
/// a, b, d), and the text after the group's end.
fn group(s: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 1usize);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let item = ident(s[start..i].trim_start());
                if !item.is_empty() {
                    items.push(item.to_owned());
                }
                start = i + 1;
                if c == '}' {
                    break;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    items
}

/// Every absolute path a file names through `crate::` or `super::`, cut
/// one segment below the deepest point it reaches into (enough to find
/// the sibling it uses).
fn targets(file: &File) -> Vec<Vec<String>> {
    let code = &file.code;
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let boundary = code[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        if !(boundary && (rest.starts_with("crate::") || rest.starts_with("super::"))) {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let mut base = if rest.starts_with("crate::") { Vec::new() } else { file.module.clone() };
        let mut at = if rest.starts_with("crate::") { i + 7 } else { i };
        while code[at..].starts_with("super::") {
            base.pop();
            at += 7;
        }
        // Two segments are enough: the module and, under it, a sibling.
        let mut path = base;
        loop {
            let s = &code[at..];
            if s.starts_with('{') {
                for item in group(s) {
                    let mut p = path.clone();
                    if item != "self" {
                        p.push(item);
                    }
                    out.push(p);
                }
                break;
            }
            let id = ident(s);
            if id.is_empty() {
                out.push(path);
                break;
            }
            path.push(id.to_owned());
            at += id.len();
            if !code[at..].starts_with("::") {
                out.push(path);
                break;
            }
            at += 2;
        }
        i = at.max(i + 1);
    }
    out
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Which sibling uses which, per parent module.
fn edges(files: &[File]) -> BTreeMap<Vec<String>, Graph> {
    // Modules that exist, and what each parent re-exports from which child.
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut reexports: BTreeMap<(Vec<String>, String), String> = BTreeMap::new();
    for f in files.iter().filter(|f| f.is_mod_rs) {
        for stmt in f.code.split(';') {
            let Some(rest) = stmt.trim_start().strip_prefix("pub use ") else { continue };
            let child = ident(rest);
            for word in rest[child.len()..].split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !word.is_empty() {
                    reexports.insert((f.module.clone(), word.to_owned()), child.to_owned());
                }
            }
        }
    }
    let mut edges: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in files {
        for mut target in targets(f) {
            let common = f.module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == 0 || common >= f.module.len() || common >= target.len() {
                continue; // across top-level modules, or a parent and its child
            }
            let parent = f.module[..common].to_vec();
            let mut child = parent.clone();
            child.push(target[common].clone());
            if !modules.contains(&child) && !modules.iter().any(|m| m.starts_with(&child)) {
                match reexports.get(&(parent.clone(), target[common].clone())) {
                    Some(owner) => target[common] = owner.clone(),
                    None => continue,
                }
            }
            let (from, to) = (f.module[common].clone(), target[common].clone());
            if from != to {
                edges.entry(parent).or_default().entry(from).or_default().insert(to);
            }
        }
    }
    edges
}

/// Sibling modules that use each other in a circle, one line per circle
/// (`catalog: candidates -> matcher -> rules -> candidates`), leaving out
/// the `known` edges.
fn circles(edges: &BTreeMap<Vec<String>, Graph>, known: &[(&str, &str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (parent, graph) in edges {
        let mut graph = graph.clone();
        for (p, from, to) in known {
            if parent.join("/") == *p
                && let Some(targets) = graph.get_mut(*from)
            {
                targets.remove(*to);
            }
        }
        let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
        for start in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, start)
                && reported.insert(cycle.iter().cloned().collect())
            {
                out.push(format!("{}: {}", parent.join("/"), cycle.join(" -> ")));
            }
        }
    }
    out
}

/// The shortest path from `start` back to itself, if any (breadth first).
fn cycle_from(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                let mut path = vec![start.to_owned()];
                let mut node = at;
                while node != start {
                    path.insert(1, node.to_owned());
                    node = prev[node];
                }
                path.push(start.to_owned());
                return Some(path);
            }
            if !prev.contains_key(next.as_str()) {
                prev.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

#[test]
fn sibling_modules_import_each_other_in_one_direction_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    load(&root, &root, &mut files);
    assert!(files.iter().any(|f| f.module == ["catalog", "candidates"]), "the walk must see the catalog");
    let edges = edges(&files);
    let found = circles(&edges, KNOWN);
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
    let catalog = &edges[&vec!["catalog".to_owned()]];
    assert!(catalog["analysis"].contains("matcher"), "the check must see the catalog's imports: {catalog:?}");
    for (parent, from, to) in KNOWN {
        let still = edges.get(&vec![(*parent).to_owned()]).and_then(|g| g.get(*from)).is_some_and(|t| t.contains(*to));
        assert!(still, "{parent}: {from} -> {to} is gone: remove it from KNOWN");
    }
}

#[test]
fn the_circle_check_catches_circles_through_groups_supers_and_reexports() {
    let file = |module: &[&str], is_mod_rs: bool, text: &str| File {
        module: module.iter().map(|s| (*s).to_owned()).collect(),
        is_mod_rs,
        code: code_of(text),
    };
    let files = vec![
        file(&["cat"], true, "pub mod a;\npub mod b;\npub mod r;\npub use a::{Alpha, helper};\n"),
        // a -> b (in a group), b -> r (through super::super), r -> a (a re-export).
        file(&["cat", "a"], false, "use super::{b::Beta, model};\n"),
        file(&["cat", "b"], false, "fn f() { crate::cat::r::params::go() }\n"),
        file(&["cat", "r"], true, "pub mod params;\n"),
        file(&["cat", "r", "params"], false, "use super::super::Alpha;\n"),
        // Not edges: a comment, the test module, a child used by its parent.
        file(
            &["cat", "model"],
            false,
            "// use super::a;\nfn g() {}\n#[cfg(test)]\nmod tests {\n    use super::super::a;\n}\n",
        ),
        file(&["other"], false, "use crate::cat::a;\n"),
    ];
    let found = circles(&edges(&files), &[]);
    assert_eq!(found, vec!["cat: a -> b -> r -> a".to_owned()], "{found:#?}");
    assert!(circles(&edges(&files), &[("cat", "r", "a")]).is_empty(), "a known edge is left out");
    let acyclic: Vec<File> = files.into_iter().filter(|f| f.module != ["cat", "r", "params"]).collect();
    assert!(circles(&edges(&acyclic), &[]).is_empty());
}
