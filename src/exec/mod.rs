//! The scheduler over a [`Plan`]: repositories in parallel, tasks in order per repository,
//! files in parallel per task, shell steps in a temporary worktree, on a dedicated rayon pool;
//! panics caught per unit; events to an [`Observer`]; an interrupt flag honoured between files.
//! It runs the plan as `crate::plan` built it and never calls back into `plan`.

mod commits;
mod errors;
pub mod ignore;
mod model;
pub mod observer;
mod outcome;
mod planned;
pub mod pool;
mod pr_body;
mod publish;
mod publish_api;
mod remotes;
mod repo_run;
mod run;
mod run_ctx;
mod shell;
mod steps;
mod tasks;

pub use errors::ExecError;
pub use model::{ClientFor, Models};
pub use observer::{Observer, Silent};
pub use planned::{ModelPlan, Opened, Plan, RepoPlan, Target, TaskPlan};
pub use pool::{Unit, catching, pool, run_units};
pub use publish::{PublishOptions, PullRequests, publish};
pub use run::{RunOptions, run};
pub use shell::kill_running;
