//! The checked model later stages use, built from a pipeline that uses every field.

use std::path::Path;
use std::time::Duration;

use codefleet::coders::Format;
use codefleet::pipeline::{self, Context, EditFormat, OnFail, Per, Provider, RepoSource, TaskKind};

use super::util::fixtures;

fn all_kinds(vars: &[(&str, &str)]) -> pipeline::Pipeline {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match pipeline::load(&fixtures("valid").join("all-kinds.yml"), &vars) {
        Ok(p) => p,
        Err(errors) => panic!(
            "{}",
            errors.iter().map(|e| e.render(false)).collect::<String>()
        ),
    }
}

#[test]
fn top_level_fields_are_checked_and_resolved() {
    let p = all_kinds(&[]);
    let dir = fixtures("valid");
    assert_eq!(p.name, "all-kinds");
    assert_eq!(p.dir, dir);
    assert_eq!(
        p.repos,
        vec![
            RepoSource::Path(dir.join(".")),
            RepoSource::Glob(format!("{}/../*", dir.display())),
            RepoSource::Url {
                url: "https://github.com/acme/billing.git".into(),
                git_ref: Some("main".into()),
                depth: None,
            },
            RepoSource::List(dir.join("repos.txt")),
        ]
    );
    assert_eq!(p.vars["major"], "2");
    let ctx = Context {
        pipeline: &p.name,
        task: Some("format"),
        run_id: "r7",
        repo_name: Some("billing"),
        vars: Some(&p.vars),
        results: None,
    };
    assert_eq!(p.branch.render(&ctx), "codefleet/all-kinds-2");
    assert_eq!(p.commit.message.render(&ctx), "format (all-kinds)");
    assert_eq!(
        (
            p.commit.author.name.as_str(),
            p.commit.author.email.as_str()
        ),
        ("Fleet Bot", "fleet@example.com")
    );
    assert_eq!(p.pr.title.render(&ctx), "Migrate to tracing in billing");
    assert_eq!(p.pr.body.render(&ctx), "Run r7.");
    assert!(p.pr.draft);
    assert_eq!(p.model.provider, Some(Provider::Openai));
    assert_eq!(p.model.edit_format, EditFormat::Format(Format::Diff));
    assert_eq!(p.model.timeout, Some(Duration::from_secs(90)));
    assert_eq!(p.model_concurrency, 4);
    assert_eq!(p.budget.max_tokens, Some(2_000_000));
    assert_eq!(p.budget.max_wall_time, Some(Duration::from_secs(5400)));
    assert_eq!(p.policy.max_file_size, 512 * 1024);
    assert!(!p.policy.allow_create && p.policy.allow_delete);
    assert!(p.policy.deny.is_match("secrets/key.txt"));
    assert!(p.policy.deny.is_match("app/.env"));
    assert!(p.policy.deny.is_match(".git/config"));
    assert!(!p.policy.deny.is_match("src/main.rs"));
}

#[test]
fn tasks_carry_compiled_kinds() {
    let p = all_kinds(&[]);
    let kinds: Vec<&str> = p.tasks.iter().map(|t| t.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "replace", "replace", "patch", "edits", "prompt", "ask", "run", "check"
        ]
    );
    let t = &p.tasks[0];
    assert_eq!((t.pos.line, t.pos.column), (40, 5));
    let files = t.files.as_ref().unwrap();
    assert!(files.matches("src/lib.rs"));
    assert!(!files.matches("vendor/x/lib.rs"));
    assert!(!files.matches("README.md"));
    let TaskKind::Replace(r) = &t.kind else {
        panic!("not a replace")
    };
    assert!(r.is_regex);
    assert_eq!(r.max_count, Some(10));
    let vars = p.vars.clone();
    let ctx = Context {
        vars: Some(&vars),
        ..Context::default()
    };
    let with = r.with.render(&ctx);
    assert_eq!(
        r.regex.replace_all("log::warn!(x)", with.as_str()),
        "tracing::warn!(x)"
    );

    let TaskKind::Replace(r) = &p.tasks[1].kind else {
        panic!("not a replace")
    };
    assert!(!r.is_regex);
    assert!(
        r.regex.is_match("LOG = \"0.4\""),
        "literal, case-insensitive"
    );
    assert!(!r.regex.is_match("logx= "));

    let TaskKind::Patch { path } = &p.tasks[2].kind else {
        panic!("not a patch")
    };
    assert!(path.ends_with("patches/timeouts.diff") && path.is_file());
    let TaskKind::Edits { format, .. } = &p.tasks[3].kind else {
        panic!("not edits")
    };
    assert_eq!(*format, Some(Format::Diff));

    let t = &p.tasks[4];
    let TaskKind::Prompt { prompt, per } = &t.kind else {
        panic!("not a prompt")
    };
    assert_eq!(*per, Per::File);
    assert!(
        prompt
            .render(&Context {
                repo_name: Some("api"),
                vars: Some(&vars),
                ..Context::default()
            })
            .starts_with("Add a docstring to every public function in api that lacks one.\nFollow the style of the project (google style).")
    );
    assert_eq!(t.model.name.as_deref(), Some("gpt-4.1"), "task override");
    assert_eq!(t.model.edit_format, EditFormat::Format(Format::Whole));
    assert_eq!(t.model.provider, Some(Provider::Openai), "inherited");
    assert_eq!(t.model.reflections, 2, "inherited");

    let TaskKind::Ask { per, .. } = &p.tasks[5].kind else {
        panic!("not ask")
    };
    assert_eq!(*per, Per::Repo, "no files: one request per repository");

    let TaskKind::Run(c) = &p.tasks[6].kind else {
        panic!("not run")
    };
    assert_eq!(c.shell, "bash");
    assert_eq!(c.cwd, Path::new("crates/core"));
    assert_eq!(c.timeout, Duration::from_secs(120));
    assert_eq!(c.concurrency, Some(2));
    assert_eq!(c.env["RUSTFMT"], "rustfmt");

    let TaskKind::Check {
        command,
        on_fail,
        fix_attempts,
    } = &p.tasks[7].kind
    else {
        panic!("not check")
    };
    assert_eq!(*on_fail, OnFail::Fix, "`fix:` implies on_fail: fix");
    assert_eq!(*fix_attempts, 3);
    assert_eq!(command.timeout, Duration::from_secs(600));
    assert_eq!(command.shell, "bash -eo pipefail -c");
}

#[test]
fn var_overrides_reach_templates_and_find_patterns() {
    let text = "name: bump\nvars: { crate: serde, from: '1.0.1', to: '' }\ntasks:\n  - name: bump {{ vars.crate }}\n    files: [Cargo.toml]\n    replace:\n      find: '({{ vars.crate }} = \")({{ vars.from }})'\n      with: '${1}{{ vars.to }}'\n      regex: true\n";
    let vars = vec![("to".to_string(), "1.0.2".to_string())];
    let p = pipeline::load_str(text, Path::new("bump.yml"), &vars).unwrap();
    let TaskKind::Replace(r) = &p.tasks[0].kind else {
        panic!("not a replace")
    };
    // Variable values are matched as written: the dots of 1.0.1 are not regex wildcards.
    assert_eq!(r.find, "(serde = \")(1\\.0\\.1)");
    assert!(!r.regex.is_match("serde = \"1x0x1\""));
    let with = r.with.render(&Context {
        vars: Some(&p.vars),
        ..Context::default()
    });
    assert_eq!(
        r.regex.replace_all("serde = \"1.0.1\"", with.as_str()),
        "serde = \"1.0.2\""
    );
    assert_eq!(
        p.tasks[0].name, "bump {{ vars.crate }}",
        "names are plain text"
    );
}

#[test]
fn defaults_apply_when_sections_are_absent() {
    let p = pipeline::load_str(
        "name: min\ntasks:\n  - name: fmt\n    run: cargo fmt\n",
        Path::new("min.yml"),
        &[],
    )
    .unwrap();
    assert!(p.repos.is_empty());
    let ctx = Context {
        pipeline: "min",
        task: Some("fmt"),
        ..Context::default()
    };
    assert_eq!(p.branch.render(&ctx), "codefleet/min");
    assert_eq!(p.commit.message.render(&ctx), "fmt");
    assert_eq!(p.commit.author.email, "codefleet@localhost");
    assert_eq!(p.policy.max_file_size, 1 << 20);
    assert!(p.policy.allow_create && !p.policy.allow_delete);
    assert_eq!(p.model.edit_format, EditFormat::Auto);
    assert_eq!(p.model.reflections, 3);
    assert_eq!(p.pr.title.render(&ctx), "codefleet: min");
    assert!(p.tasks[0].files.is_none());
}

#[test]
fn pipelines_can_be_built_in_code() {
    use codefleet::pipeline::{Command, FileFilter, Pipeline, Replace, Task};
    let rename = Task::new(
        "rename",
        TaskKind::Replace(Replace::regex(r"\bold_(\w+)", "new_$1").unwrap()),
    )
    .with_files(FileFilter::new(&["**/*.rs"], &["vendor/**"]).unwrap());
    let build = Task::new(
        "build",
        TaskKind::Check {
            command: Command::new("cargo check"),
            on_fail: OnFail::Revert,
            fix_attempts: 0,
        },
    );
    let p = Pipeline::new("in-code", vec![rename, build]);
    let ctx = p.context("r1", Some("api"), Some("rename"));
    assert_eq!(p.branch.render(&ctx), "codefleet/in-code");
    assert_eq!(p.commit.message.render(&ctx), "rename");
    let TaskKind::Replace(r) = &p.tasks[0].kind else {
        panic!("not a replace")
    };
    assert_eq!(
        r.regex
            .replace_all("old_name", r.with.render(&ctx).as_str()),
        "new_name"
    );
    assert!(p.tasks[0].files.as_ref().unwrap().matches("src/a.rs"));
    assert!(!p.tasks[0].files.as_ref().unwrap().matches("vendor/a.rs"));
    assert!(Replace::regex("(", "x").is_err());
    let lit = Replace::literal("a.b", "$1").unwrap();
    assert!(lit.regex.is_match("a.b") && !lit.regex.is_match("axb"));
}
