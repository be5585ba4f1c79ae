//! Pipeline format tests: broken pipelines and their diagnostics (snapshots), valid pipelines
//! (`pipelines/`, `codefleet init`), the JSON Schema against an independent validator, the
//! checked model, and a property test that no input panics the loader.

mod cli;
mod examples;
mod fuzz;
mod model;
mod schema;
mod snapshots;
mod util;
