use crate::User;

/// Loads one user by id.
pub fn fetch_user(id: u64) -> Option<User> {
    log::info!("fetching user {id}");
    if id == 0 {
        log::warn!("user 0 does not exist");
        return None;
    }
    Some(User { id, name: format!("user-{id}") })
}

/// Loads several users; `fetch_users` is a different function and stays as it is.
pub fn fetch_users(ids: &[u64]) -> Vec<User> {
    ids.iter().filter_map(|id| fetch_user(*id)).collect()
}
