//! Users of the sample service.

pub mod client;

pub use client::fetch_user;

/// A user record.
#[derive(Debug, serde::Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
}
