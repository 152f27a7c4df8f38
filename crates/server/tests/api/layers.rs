//! The layer rules of docs/architecture.md, checked on the source tree:
//! use cases (`app/`) and the request state do not reach into the workers,
//! and use cases know nothing of HTTP;
//! neither use cases nor HTTP handlers touch the ORM (all SQL is in
//! `store`); HTTP handlers do not read store entities; the pure crates
//! (`domain`, `koo`) depend on nothing of the server, and the domain names
//! the ORM only in its optional column mappings.

use std::path::{Path, PathBuf};

fn server_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out
}

/// `file:line: text` for every line of `files` (comments excluded) that
/// contains one of `needles`.
fn uses(files: &[PathBuf], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, code));
            }
        }
    }
    found
}

#[test]
fn use_cases_and_state_do_not_import_the_workers() {
    let mut files = rust_files(&server_src().join("app"));
    files.push(server_src().join("state.rs"));
    let found = uses(&files, &["crate::workers", "workers::", "mercato_server::workers"]);
    assert!(found.is_empty(), "app/ and state.rs must not import workers/ (use app::outbox):\n{}", found.join("\n"));
}

#[test]
fn use_cases_and_handlers_do_not_touch_the_orm() {
    let mut files = rust_files(&server_src().join("app"));
    files.extend(rust_files(&server_src().join("http")));
    let found = uses(&files, &["sea_orm", "sea_query"]);
    assert!(
        found.is_empty(),
        "app/ and http/ reach the database through store repositories only:\n{}",
        found.join("\n")
    );
}

#[test]
fn use_cases_know_no_http() {
    let found = uses(&rust_files(&server_src().join("app")), &["axum", "StatusCode", "tower_http"]);
    assert!(
        found.is_empty(),
        "app/ returns views and AppError/OpenApiError; statuses and responses are http/'s:\n{}",
        found.join("\n")
    );
}

#[test]
fn handlers_do_not_read_store_entities() {
    let found = uses(&rust_files(&server_src().join("http")), &["mercato_store::entity", "store::entity"]);
    assert!(found.is_empty(), "http/ speaks app:: views, not store entities:\n{}", found.join("\n"));
}

#[test]
fn the_pure_crates_depend_on_nothing_of_the_server() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let server_side = ["mercato-server", "mercato-store", "mercato-cli", "mercato-isv", "mercato-conformance"];
    for pure in ["domain", "koo"] {
        let deps = dependencies(&crates.join(pure).join("Cargo.toml"));
        for dep in server_side {
            assert!(!deps.iter().any(|l| l.trim_start().starts_with(dep)), "crates/{pure} must not depend on {dep}");
        }
        let found = uses(&rust_files(&crates.join(pure).join("src")), &["mercato_server", "mercato_store"]);
        assert!(found.is_empty(), "crates/{pure} must not use the server's crates:\n{}", found.join("\n"));
    }
    // The ORM: koo never; domain only as the optional dependency of its
    // `store` feature, named in one file (the column mappings).
    let koo = dependencies(&crates.join("koo").join("Cargo.toml"));
    assert!(!koo.iter().any(|l| l.trim_start().starts_with("sea-orm")), "crates/koo must not depend on sea-orm");
    assert!(uses(&rust_files(&crates.join("koo").join("src")), &["sea_orm"]).is_empty(), "crates/koo uses sea_orm");
    let domain = dependencies(&crates.join("domain").join("Cargo.toml"));
    for line in domain.iter().filter(|l| l.trim_start().starts_with("sea-orm")) {
        assert!(line.contains("optional = true"), "crates/domain may depend on sea-orm only optionally: {line}");
    }
    let stored = crates.join("domain").join("src").join("stored.rs");
    let found: Vec<String> = uses(&rust_files(&crates.join("domain").join("src")), &["sea_orm"])
        .into_iter()
        .filter(|l| !l.starts_with(&stored.display().to_string()))
        .collect();
    assert!(found.is_empty(), "crates/domain names the ORM only in src/stored.rs:\n{}", found.join("\n"));
}

/// The lines of the `[dependencies]` table of a manifest.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    text.lines()
        .skip_while(|l| l.trim() != "[dependencies]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::to_string)
        .collect()
}
