//! Integration tests of the git layer (`codefleet::git`) against real temporary repositories
//! made with the `git` command line, which also serves as the independent witness of results.

mod branch;
mod commit;
mod journal;
mod lock;
mod open;
mod read;
mod rollback;
mod run_branch;
