pub const YAML_CASES: usize = 0;
pub const REPLY_CASES: usize = 0;
pub const PATCH_CASES: usize = 0;
pub const RESPONSE_CASES: usize = 0;
pub const CONTENT_CASES: usize = 0;
pub const REPO_STATE_CASES: usize = 0;
