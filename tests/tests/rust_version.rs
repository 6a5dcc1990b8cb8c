//! The declared `rust-version` is true: no locked dependency asks for a newer compiler. Another
//! toolchain cannot be installed to try it, so this compares the declaration with every
//! package's own in `cargo metadata` (which fetches any locked package not yet downloaded,
//! including those for other platforms).

use std::process::Command;

fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|part| part.parse().expect("numeric version part")).collect()
}

#[test]
fn no_locked_dependency_needs_a_newer_rust_than_declared() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m.as_str().expect("id"))
        .collect();
    let declared: Vec<&str> = packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().expect("id")))
        .map(|p| p["rust_version"].as_str().expect("every member declares rust-version"))
        .collect();
    assert!(declared.len() >= 9, "{declared:?}");
    let declared = version(declared[0]);
    let mut newest = (Vec::new(), String::new());
    for package in packages {
        if let Some(needed) = package["rust_version"].as_str() {
            let needed = version(needed);
            if needed > newest.0 {
                newest = (needed, package["name"].as_str().unwrap_or("?").to_owned());
            }
        }
    }
    assert!(
        declared >= newest.0,
        "rust-version {declared:?} is older than {} needs ({:?})",
        newest.1,
        newest.0
    );
}
