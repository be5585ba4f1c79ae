//! Read-only planning: which repositories, which files per task, what a run will do.
//! Built by the runs issue.
