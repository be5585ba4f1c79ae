//! What the topics share: the fixture (temporary repositories, isolated git, the real binary),
//! and the stand-in servers (a model server, GitHub's API, git over HTTP).

pub mod fixture;
pub mod git_http;
pub mod gitea;
pub mod github;
pub mod github_graphql;
pub mod gitlab;
pub mod in_process;
pub mod model_server;
pub mod openapi;
