//! The scheduler: repositories in parallel, tasks in order per repository, files in parallel per
//! task, on a dedicated rayon pool. Built by the runs issue.
