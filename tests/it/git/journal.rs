//! The run journal: atomic JSON files under the git directory, listed newest first.

use std::collections::BTreeMap;

use codefleet::git::{EditRecord, Oid, RunId, RunRecord, TaskRecord};

use crate::support::fixture::Fixture;

fn record(run_id: &str, started_at: &str, base: Oid) -> RunRecord {
    let mut run = RunRecord::new(
        run_id,
        "migrate-logging",
        "HEAD",
        base,
        "codefleet/migrate-logging",
        None,
    );
    run.started_at = started_at.into();
    run.tasks.push(TaskRecord {
        name: "rename macro".into(),
        commit: Some(base),
        files_changed: vec!["src/a.rs".into()],
        edits: vec![
            EditRecord {
                path: "src/a.rs".into(),
                applied: true,
                detail: "exact".into(),
                extra: BTreeMap::new(),
            },
            EditRecord {
                path: "src/b.rs".into(),
                applied: false,
                detail: "SEARCH text not found".into(),
                extra: BTreeMap::from([("line".to_string(), serde_json::json!(12))]),
            },
        ],
        timings_ms: BTreeMap::from([("total".to_string(), 42)]),
        error: None,
        extra: BTreeMap::from([(
            "tokens".to_string(),
            serde_json::json!({"in": 10, "out": 5}),
        )]),
    });
    run
}

#[test]
fn a_run_round_trips_through_its_file() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base").commit;
    let id = RunId::new();
    let run = record(id.as_str(), "2026-11-24T12:00:00Z", base);
    let journal = repo.journal();
    journal.write(&run).expect("write");
    let file = f
        .root()
        .join(".git/codefleet/runs")
        .join(format!("{id}.json"));
    assert!(file.is_file(), "{}", file.display());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
    assert_eq!(json["base"], base.to_string());
    assert_eq!(json["previous_tip"], serde_json::Value::Null);
    assert_eq!(json["tasks"][0]["edits"][1]["line"], 12);
    assert_eq!(json["tasks"][0]["tokens"]["in"], 10);
    assert_eq!(journal.read(id.as_str()).expect("read back"), run);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(file.parent().expect("dir"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn runs_are_listed_newest_first_and_damaged_files_are_skipped() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base").commit;
    let journal = repo.journal();
    for (id, at) in [
        ("20261124T100000Z-000001", "2026-11-24T10:00:00Z"),
        ("20261124T120000Z-000003", "2026-11-24T12:00:00Z"),
        ("20261124T110000Z-000002", "2026-11-24T11:00:00Z"),
    ] {
        journal.write(&record(id, at, base)).expect("write");
    }
    std::fs::write(
        journal.dir().join("20261124T130000Z-00000f.json"),
        b"{ not json",
    )
    .expect("damage");
    let ids: Vec<String> = journal
        .list()
        .expect("list")
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(
        ids,
        [
            "20261124T120000Z-000003",
            "20261124T110000Z-000002",
            "20261124T100000Z-000001"
        ]
    );
    let err = journal
        .read("20261124T130000Z-00000f")
        .expect_err("damaged");
    assert_eq!(err.code, "E211");
}

#[test]
fn unknown_and_unsafe_run_ids_are_not_found() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    assert!(repo.journal().list().expect("no dir yet").is_empty());
    for id in ["20991231T000000Z-000000", "../../config", ""] {
        let err = repo.journal().read(id).expect_err(id);
        assert_eq!(err.code, "E209", "{id}");
    }
}

#[test]
fn a_linked_worktree_shares_the_journal() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let wt = f.sibling("wt");
    f.git_here(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        wt.to_str().expect("utf8"),
    ]);
    let main = f.open();
    let linked = codefleet::git::Repo::open(&wt).expect("open worktree");
    let base = main.base(None).expect("base").commit;
    linked
        .journal()
        .write(&record("20261124T100000Z-000001", "x", base))
        .expect("write");
    assert_eq!(main.journal().list().expect("list").len(), 1);
}

#[test]
fn runs_in_one_second_are_listed_by_their_sequence_newest_first() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base").commit;
    let journal = repo.journal();
    // Random suffixes that sort against the order the runs took the lock in.
    for (id, seq) in [
        ("20261124T100000Z-ffffff", 1),
        ("20261124T100000Z-000000", 2),
        ("20261124T100000Z-888888", 3),
    ] {
        let mut run = record(id, "2026-11-24T10:00:00.000Z", base);
        run.sequence = seq;
        journal.write(&run).expect("write");
        assert_eq!(journal.next_sequence().expect("next"), seq + 1);
    }
    // A journal of an older version: no sequence, whole seconds; it is older.
    journal
        .write(&record(
            "20261124T095959Z-000001",
            "2026-11-24T10:00:00Z",
            base,
        ))
        .expect("write");
    let ids: Vec<String> = journal
        .list()
        .expect("list")
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(
        ids,
        [
            "20261124T100000Z-888888",
            "20261124T100000Z-000000",
            "20261124T100000Z-ffffff",
            "20261124T095959Z-000001"
        ]
    );
}
