//! The integration tests, one binary with a module per topic (as ripgrep and just do): one
//! link instead of one per topic, and `cargo test --test it TOPIC::` runs one topic.
//! Every topic runs in this one process, so none sets process-global state: the real binary
//! and `git` get their environment per command, never through `set_var`; libgit2's config
//! search path is set once, by the fixture, before any test reaches libgit2; in-process CLI
//! calls pass every path absolute (the current directory is shared), and the tracing
//! subscriber they install is the first one (`try_init`; later calls leave it).

mod support;

mod action;
mod aider_diff;
mod apply;
mod architecture;
mod campaign;
mod campaign_e2e;
mod campaign_forges;
mod cli_basics;
mod cli_in_process;
mod coders;
mod commit_api;
mod discover;
mod discover_forges;
mod fleet;
mod forge;
mod forge_api;
mod forge_gitea;
mod forge_gitlab;
mod forge_hosts;
mod gates;
mod git;
mod knobs;
mod llm;
mod model_e2e;
mod model_tasks;
mod openapi_check;
mod pipeline;
mod pipelines_examples;
mod pr_lifecycle;
mod readme;
mod reliability;
mod remote;
mod runs;
mod settings;
mod shell;
mod workspace;
