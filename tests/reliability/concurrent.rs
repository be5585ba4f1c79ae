pub const RACES: usize = 0;
pub const LOCK_CASES: usize = 0;
