//! The files a task sees: path confinement, policy, atomic writes, temporary worktrees.
