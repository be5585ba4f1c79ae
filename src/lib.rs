//! codefleet runs coders — replacements, edit blocks, diffs, model edits and shell steps — over
//! many files and many git repositories, and leaves each repository's result as commits on a
//! branch, one commit per task.
//!
//! Data flows one way (see the README's design notes):
//! `cli → pipeline → plan → exec → coders → workspace → git`, with `llm` beside `exec` and
//! `report` fed by events. `cli` is imported by nothing; `coders` touches neither the file system
//! nor git. `tests/it/architecture.rs` enforces both.

pub mod campaign;
pub mod cli;
pub mod coders;
pub mod error;
pub mod exec;
pub mod forge;
pub mod git;
pub mod hash;
pub mod llm;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod secrets;
pub mod settings;
pub mod workspace;
