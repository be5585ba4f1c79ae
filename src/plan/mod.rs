//! Read-only planning: which repositories, which files per task, what a run will do.

pub mod build;
pub mod repos;
pub mod select;

pub use build::{ModelPlan, Plan, RepoPlan, TaskPlan, build};
pub use repos::{Target, open, parse_shard, resolve, shard};
pub use select::{Skip, content_skip, select};
