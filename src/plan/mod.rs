//! Read-only planning: which repositories, named, based and branched how, and which files
//! per task: the [`Plan`] value a run executes.

pub mod build;
pub mod discover;
mod errors;
pub mod repos;

pub use crate::exec::{ModelPlan, Plan, RepoPlan, Target, TaskPlan};
pub use build::{PlanOptions, build, repo_name};
pub use discover::Discovery;
pub use errors::PlanError;
pub use repos::{RepoArg, Resolved, list_lines, parse_shard, resolve, shard};
