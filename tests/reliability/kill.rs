pub const KILL_POINTS: usize = 0;
pub const ROLLBACK_KILL_POINTS: usize = 0;
