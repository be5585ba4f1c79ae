//! Branches and commits built from objects, the run journal, rollback, clone cache and push.
//! Built by the runs and remotes issues.
