//! Read-only planning: which repositories, which files per task, what a run will do.

pub mod repos;
pub mod select;

pub use repos::{Target, resolve};
pub use select::{Skip, content_skip, select};
