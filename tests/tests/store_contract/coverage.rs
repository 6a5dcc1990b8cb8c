//! Every operation of every store trait is called by a case in its aggregate's contract file.

/// Each trait of `shared/src/store/mod.rs` and the contract file its operations belong to.
const FILES: &[(&str, &str)] = &[
    ("UserStore", "accounts.rs"),
    ("SessionStore", "sessions.rs"),
    ("ProductStore", "catalog.rs"),
    ("CouponStore", "coupons.rs"),
    ("CartStore", "carts.rs"),
    ("OrderStore", "orders.rs"),
    ("PaymentStore", "payments.rs"),
    ("OutboxStore", "orders.rs"),
    ("SentEmailStore", "emails.rs"),
    ("AddressStore", "addresses.rs"),
    ("AuditStore", "audit.rs"),
    ("WebhookStore", "webhooks.rs"),
];

/// (trait, its methods) for every `pub trait … {` of the store module.
fn store_traits(source: &str) -> Vec<(String, Vec<String>)> {
    let mut traits = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("pub trait ") else { continue };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let mut methods = Vec::new();
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            let signature = line.trim_start().trim_start_matches("async ");
            if let Some(method) = signature.strip_prefix("fn ") {
                methods.push(
                    method.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect(),
                );
            }
        }
        traits.push((name, methods));
    }
    traits
}

#[test]
fn every_store_operation_has_a_contract_case() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = std::fs::read_to_string(root.join("shared/src/store/mod.rs")).expect("store");
    let traits = store_traits(&source);
    assert!(traits.len() >= 12, "the trait scan found {traits:?}");
    let mut missing = Vec::new();
    for (name, methods) in traits.iter().filter(|(_, methods)| !methods.is_empty()) {
        let file = FILES.iter().find(|(t, _)| t == name).map(|(_, f)| *f);
        let Some(file) = file else {
            missing.push(format!("{name}: no contract file named for it in coverage.rs"));
            continue;
        };
        let cases = std::fs::read_to_string(root.join("tests/tests/store_contract").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        for method in methods {
            if !cases.contains(&format!(".{method}(")) {
                missing.push(format!("{name}::{method} (no call in {file})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "store operations without a contract case:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_trait_scan_reads_methods_of_every_trait() {
    let source = "pub trait A: Send {\n    /// x\n    async fn one(&self);\n    fn two(&self);\n}\n\
                  pub trait B {\n}\n";
    let traits = store_traits(source);
    assert_eq!(traits, [("A".into(), vec!["one".into(), "two".into()]), ("B".into(), vec![])]);
}
