//! The reliability suite: hostile model replies and edit files, bad input to every parser,
//! SIGKILL at many points of a real run, and concurrent runs on one repository — each a table
//! of cases looped over, on real repositories with the real binary. The README's
//! "Reliability" table lists the table sizes; `readme_counts_match_the_tables` keeps it true.

mod bad_input;
mod concurrent;
mod hostile;
mod kill;

/// The README's reliability table: each row's name and the number of cases the suite tries.
fn counted() -> Vec<(&'static str, usize)> {
    vec![
        ("hostile paths in model replies", hostile::model_cases()),
        ("hostile paths in `edits:` files", hostile::edits_cases()),
        ("hostile paths in `patch:` files", hostile::patch_cases()),
        ("hostile paths in `codefleet apply`", hostile::apply_cases()),
        ("giant model outputs", hostile::GIANT_CASES),
        ("secret-looking text before sending", hostile::SECRET_CASES),
        ("bad pipeline YAML", bad_input::YAML_CASES),
        ("bad edit replies (`apply`)", bad_input::REPLY_CASES),
        ("bad patch files", bad_input::PATCH_CASES),
        ("bad model responses", bad_input::RESPONSE_CASES),
        ("bad file contents", bad_input::CONTENT_CASES),
        ("unusual repository states", bad_input::REPO_STATE_CASES),
        ("SIGKILL points in a run", kill::KILL_POINTS),
        ("SIGKILL points in a rollback", kill::ROLLBACK_KILL_POINTS),
        ("SIGKILL at each rename of a run", kill::RENAME_KILL_POINTS),
        ("concurrent runs and rollbacks", concurrent::RACES),
        ("lock holders and stale locks", concurrent::LOCK_CASES),
    ]
}

#[test]
fn readme_counts_match_the_tables() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for (name, count) in counted() {
        let row = format!("| {name} | {count} | {count} |");
        assert!(
            readme.contains(&row),
            "the README's Reliability table should have the row `{row}`"
        );
    }
}
