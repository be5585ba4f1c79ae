//! The example pipelines do what their headers say: their replace tasks, applied through the
//! checked model to a copy of `examples/sample-repo`, give exactly these files. (Runs arrive
//! with `codefleet run`; this applies the compiled regexes and templates directly.)

use std::collections::BTreeMap;
use std::path::Path;

use codefleet::pipeline::{self, Context, TaskKind};

use super::util::root;

/// Every file of the sample repository, by `/`-separated relative path.
fn sample_repo() -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let base = root().join("examples/sample-repo");
    let mut out = BTreeMap::new();
    walk(&base, &base, &mut out);
    out
}

/// Applies the pipeline's replace tasks in order; other kinds are skipped.
fn apply(pipeline_file: &str, vars: &[(&str, &str)]) -> BTreeMap<String, String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = pipeline::load(&root().join("pipelines").join(pipeline_file), &vars)
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.render(false)).collect::<String>()));
    let mut files = sample_repo();
    for task in &p.tasks {
        let TaskKind::Replace(r) = &task.kind else {
            continue;
        };
        let ctx = Context {
            pipeline: &p.name,
            task: Some(&task.name),
            vars: Some(&p.vars),
            ..Context::default()
        };
        let with = r.replacement(&ctx);
        for (path, text) in files.iter_mut() {
            if task.files.as_ref().is_some_and(|f| !f.matches(path)) {
                continue;
            }
            let limit = r.max_count.unwrap_or(0);
            let new = if r.is_regex {
                r.regex.replacen(text, limit, with.as_str())
            } else {
                r.regex.replacen(text, limit, regex::NoExpand(&with))
            };
            *text = new.into_owned();
        }
    }
    files
}

fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn rename_api_renames_the_function_and_nothing_else() {
    let before = sample_repo();
    let after = apply("rename-api.yml", &[]);
    assert_eq!(
        changed(&before, &after),
        [
            "src/client.rs",
            "src/lib.rs",
            "tools/client.py",
            "tools/report.py",
            "web/api.js",
            "web/app.js"
        ]
    );
    assert!(after["src/client.rs"].contains("pub fn load_user(id: u64)"));
    assert!(after["src/client.rs"].contains("pub fn fetch_users(ids: &[u64])"));
    assert!(after["src/client.rs"].contains("filter_map(|id| load_user(*id))"));
    assert_eq!(
        after["src/lib.rs"],
        before["src/lib.rs"].replace("fetch_user;", "load_user;")
    );
    assert!(!after.values().any(|t| t.contains("fetch_user(")));

    let after = apply(
        "rename-api.yml",
        &[("old", "fetch_users"), ("new", "load_many")],
    );
    assert_eq!(changed(&before, &after), ["src/client.rs"]);
    assert!(after["src/client.rs"].contains("pub fn load_many(ids"));
    assert!(after["src/client.rs"].contains("pub fn fetch_user(id"));
}

#[test]
fn license_header_is_inserted_once_and_updated_on_rerun() {
    let after = apply("license-header.yml", &[]);
    assert!(after["src/lib.rs"].starts_with("// SPDX-License-Identifier: MIT\n//! Users"));
    assert_eq!(
        after["web/api.js"].matches("SPDX").count(),
        1,
        "an existing header is not duplicated"
    );
    assert!(
        after["tools/report.py"]
            .starts_with("#!/usr/bin/env python3\n# SPDX-License-Identifier: MIT\n\"\"\"Prints")
    );
    assert!(
        after["tools/client.py"].starts_with("# SPDX-License-Identifier: MIT\nimport requests")
    );
    assert_eq!(after["README.md"], sample_repo()["README.md"]);

    let relicensed = apply("license-header.yml", &[("license", "Apache-2.0")]);
    assert!(relicensed["web/api.js"].starts_with("// SPDX-License-Identifier: Apache-2.0\nexport"));
    assert_eq!(relicensed["web/api.js"].matches("SPDX").count(), 1);
}

#[test]
fn bump_dependency_changes_only_the_named_versions() {
    let before = sample_repo();
    let after = apply("bump-dependency.yml", &[]);
    assert_eq!(
        changed(&before, &after),
        ["Cargo.toml", "package.json", "requirements.txt"]
    );
    assert_eq!(
        after["Cargo.toml"],
        before["Cargo.toml"].replace("version = \"1.0.190\"", "version = \"1.0.210\"")
    );
    assert_eq!(
        after["package.json"],
        before["package.json"].replace("\"^1.2.0\"", "\"^1.3.0\"")
    );
    assert_eq!(
        after["requirements.txt"],
        "requests==2.32.3\nclick==8.1.7\n"
    );

    let after = apply(
        "bump-dependency.yml",
        &[("crate", "log"), ("crate_version", "0.4.22")],
    );
    assert!(after["Cargo.toml"].contains("log = \"0.4.22\"\n"));
    assert!(after["Cargo.toml"].contains("serde = { version = \"1.0.190\""));
    assert!(
        after["Cargo.toml"].contains("version = \"0.3.1\""),
        "the package's own version stays"
    );
}
