//! The layers of the `shared` crate point one way (README, "Architecture"): every
//! `crate::…` path a module names must be in its own layer or one below, and the lower layers
//! name no web framework or AWS SDK. A `use` that points up fails here, naming the file.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// The layer of each top-level module of `shared`, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &["domain", "config", "logging", "metrics"]),
    ("store", &["store"]),
    (
        "services",
        &[
            "addresses",
            "audit",
            "auth",
            "cart",
            "catalog",
            "coupons",
            "orders",
            "payments",
            "notify",
            "edge",
            "retry",
            "webhooks",
        ],
    ),
    ("state", &["state"]),
    ("http", &["http"]),
];

/// Crates a layer below `http` must not name.
const FRAMEWORKS: &[&str] = &["axum", "tower", "tower_http", "lambda_http", "lambda_runtime"];
/// Crates only the store (and services that talk to AWS) may name.
const AWS: &[&str] = &["aws_sdk_", "aws_config", "aws_smithy"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The code of a file without its `#[cfg(test)]` module (tests may reach anywhere) and without
/// comments.
fn production_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The top-level modules a piece of code names through `crate::`, including inside
/// `use crate::{a::…, b::…}` groups.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ if item_start && !word.is_empty() => {
                        found.insert(std::mem::take(&mut word));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !word.is_empty() {
                found.insert(word);
            }
        } else {
            let name: String =
                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_module_names_only_its_own_layer_or_lower() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src");
        let top = relative
            .components()
            .next()
            .expect("component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(own) = rank(&top) else {
            continue; // lib.rs: the crate root re-exports
        };
        let code = production_code(&std::fs::read_to_string(file).expect("readable"));
        for module in crate_modules(&code) {
            if rank(&module).is_some_and(|theirs| theirs > own) {
                violations.push(format!("{}: names crate::{module}", relative.display()));
            }
        }
        let below_http = own < rank("http").expect("http");
        for framework in FRAMEWORKS {
            if below_http && code.contains(&format!("{framework}::")) {
                violations.push(format!("{}: names {framework}", relative.display()));
            }
        }
        if own == 0 {
            for sdk in AWS {
                if code.contains(sdk) {
                    violations.push(format!("{}: names {sdk}", relative.display()));
                }
            }
        }
    }
    assert!(files.len() > 40, "read {} files", files.len());
    assert!(violations.is_empty(), "upward or framework uses:\n{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    let code = "use crate::{\n    auth::X,\n    http::{ApiError, Y},\n};\nfn f() { crate::state::AppState::new() }";
    let found = crate_modules(code);
    assert_eq!(found, ["auth", "http", "state"].map(String::from).into_iter().collect());
}

/// The longest production function, in lines (signature to closing brace), and module.
const MAX_FUNCTION_LINES: usize = 64;
const MAX_MODULE_LINES: usize = 400;

#[test]
fn production_modules_and_functions_stay_small() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["shared/src", "functions", "local/src"] {
        sources(&root.join(dir), &mut files);
    }
    let mut too_big = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => &text,
        };
        let lines: Vec<&str> = code.lines().collect();
        let name = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        if lines.len() > MAX_MODULE_LINES {
            too_big.push(format!("{name}: {} lines", lines.len()));
        }
        for (at, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_fn = ["fn ", "pub fn ", "async fn ", "pub async fn ", "pub(crate) fn "]
                .iter()
                .chain(&["pub(super) fn ", "pub(crate) async fn ", "pub(super) async fn "])
                .any(|start| trimmed.starts_with(start));
            if !is_fn {
                continue;
            }
            // A declaration without a body (a trait's) ends with `;` before any `{`.
            let signature_end =
                lines[at..].iter().find(|l| l.contains('{') || l.trim_end().ends_with(';'));
            if signature_end.is_some_and(|l| !l.contains('{')) {
                continue;
            }
            let indent = &line[..line.len() - trimmed.len()];
            let closing = format!("{indent}}}");
            let end = lines[at + 1..].iter().position(|l| *l == closing);
            if let Some(length) = end.map(|end| end + 2)
                && length > MAX_FUNCTION_LINES
            {
                too_big.push(format!("{name}:{}: a function of {length} lines", at + 1));
            }
        }
    }
    assert!(files.len() > 50, "read {} files", files.len());
    assert!(too_big.is_empty(), "{}", too_big.join("\n"));
}

/// `tests/Cargo.toml` turns off test discovery (the files are modules of `suite.rs`), so a
/// file that `suite.rs` does not name would never be compiled nor run.
#[test]
fn every_test_file_is_a_module_of_the_suite_or_a_declared_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let suite = std::fs::read_to_string(dir.join("suite.rs")).expect("suite.rs");
    let manifest = std::fs::read_to_string(dir.join("../Cargo.toml")).expect("Cargo.toml");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(files.len() > 20, "the test files were not found in {}", dir.display());
    // A file directly in tests/ is a `mod` of suite.rs (or a binary of its own); a file in a
    // folder is a `mod` of that folder's mod.rs, and the folder a `mod` of suite.rs.
    let declares =
        |parent: &str, stem: &str| parent.lines().any(|l| l.trim() == format!("mod {stem};"));
    let forgotten: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let stem = file.file_stem()?.to_str()?.to_owned();
            let folder = file.parent()?;
            let declared = if folder == dir {
                stem == "suite"
                    || declares(&suite, &stem)
                    || manifest.contains(&format!("path = \"tests/{stem}.rs\""))
            } else {
                let name = folder.file_name()?.to_str()?;
                let parent = std::fs::read_to_string(folder.join("mod.rs")).unwrap_or_default();
                declares(&suite, name) && (stem == "mod" || declares(&parent, &stem))
            };
            (!declared).then(|| file.display().to_string())
        })
        .collect();
    assert!(forgotten.is_empty(), "add `mod …;` to tests/tests/suite.rs for {forgotten:?}");
}

/// A service holds the narrow store traits it uses (a view of `store/views.rs`, or one trait),
/// never the whole `Store`: only the state that builds the services, the store itself and the
/// binaries see every trait.
#[test]
fn services_hold_narrow_store_views_not_the_whole_store() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let mut files = Vec::new();
    sources(&shared, &mut files);
    let whole: Vec<String> = files
        .iter()
        .filter(|file| !file.starts_with(shared.join("store")) && !file.ends_with("state.rs"))
        .filter_map(|file| {
            let text = std::fs::read_to_string(file).expect("readable");
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
            // `dyn Store`, however the path to it is written (`dyn crate::store::Store`).
            let named = code.match_indices("dyn ").any(|(at, _)| {
                let path: String = code[at + 4..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '_')
                    .collect();
                path.rsplit("::").next() == Some("Store")
            });
            named.then(|| file.display().to_string())
        })
        .collect();
    assert!(files.len() > 40, "{} files", files.len());
    assert!(whole.is_empty(), "services naming the whole `dyn Store`: {whole:?}");
}
