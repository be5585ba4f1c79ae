//! The forges and https credentials of one invocation, built once from the settings: each
//! host's forge (`github.com`, `github.hosts`: GitHub; `gitlab.com`, `gitlab.hosts`: GitLab;
//! `gitea.hosts`: Gitea), its API URL and its own token, so one pipeline can span hosts and no
//! forge's token is sent to another's host.

use crate::forge::{Forges, GitHub, GitLab, Gitea};
use crate::git::{Credentials, Secret, host_of};
use crate::settings::Settings;

/// The https user name GitHub expects with a token.
const GITHUB_USER: &str = "x-access-token";
/// GitLab takes any user name with a personal, project or group access token; `oauth2` is
/// the one its documentation uses.
const GITLAB_USER: &str = "oauth2";
/// GitLab's user name for a CI job token (`CI_JOB_TOKEN`): the only one it accepts.
const GITLAB_JOB_USER: &str = "gitlab-ci-token";
/// Gitea and Forgejo take an access token as the password, with any user name.
const GITEA_USER: &str = "oauth2";

/// A token from the environment variable `var`.
fn token_in(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<Secret> {
    env(var).and_then(Secret::new)
}

/// A GitLab host's token: its `token_env`, else, inside GitLab CI and only on the instance
/// the job runs on (`CI_SERVER_URL`'s host), the job's `CI_JOB_TOKEN`. `true` when it is a job
/// token.
fn gitlab_token(
    env: &dyn Fn(&str) -> Option<String>,
    host: &str,
    token_env: &str,
) -> Option<(Secret, bool)> {
    if let Some(t) = token_in(env, token_env) {
        return Some((t, false));
    }
    let in_ci = env("GITLAB_CI").is_some_and(|v| v == "true");
    let server = env("CI_SERVER_URL").and_then(|u| host_of(&u));
    if in_ci && server.as_deref() == Some(host) {
        return token_in(env, "CI_JOB_TOKEN").map(|t| (t, true));
    }
    None
}

/// Every configured host: its kind's client and its https credentials.
struct Host {
    host: String,
    forge: Box<dyn crate::forge::Forge>,
    user: &'static str,
    token: Option<Secret>,
}

fn hosts(settings: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Vec<Host> {
    let mut out = Vec::new();
    for h in &settings.github_hosts.value {
        let token = token_in(env, &h.token_env);
        out.push(Host {
            host: h.host.clone(),
            forge: Box::new(GitHub::new(&h.api_url, token.clone())),
            user: GITHUB_USER,
            token,
        });
    }
    let gitlab_com = (
        "gitlab.com".to_string(),
        settings.gitlab_api_url.value.clone(),
        settings.gitlab_token_env.value.clone(),
    );
    let gitlab_hosts = settings
        .gitlab_hosts
        .value
        .iter()
        .map(|h| (h.host.clone(), h.api_url.clone(), h.token_env.clone()));
    for (host, api, var) in std::iter::once(gitlab_com).chain(gitlab_hosts) {
        let (forge, user, token) = match gitlab_token(env, &host, &var) {
            Some((t, true)) => (
                GitLab::new(&api, Some(t.clone())).job_token(),
                GITLAB_JOB_USER,
                Some(t),
            ),
            Some((t, false)) => (GitLab::new(&api, Some(t.clone())), GITLAB_USER, Some(t)),
            None => (GitLab::new(&api, None), GITLAB_USER, None),
        };
        out.push(Host {
            host,
            forge: Box::new(forge),
            user,
            token,
        });
    }
    for h in &settings.gitea_hosts.value {
        let token = token_in(env, &h.token_env);
        out.push(Host {
            host: h.host.clone(),
            forge: Box::new(Gitea::new(&h.api_url, token.clone())),
            user: GITEA_USER,
            token,
        });
    }
    out
}

fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// The forges of this invocation: each configured host's, and GitHub at `github.api_url` for
/// github.com and every host not configured (as before forges were chosen per host).
pub(super) fn forges(settings: &Settings) -> Forges {
    let mut forges = Forges::new(Box::new(GitHub::new(
        &github_api_url(settings),
        token(settings),
    )));
    for h in hosts(settings, &process_env) {
        forges.add(&h.host, h.forge);
    }
    forges
}

/// The https credentials of this invocation: each configured host's own token (with the user
/// name its forge expects), and the GitHub token for github.com and hosts not configured.
pub(super) fn credentials(settings: &Settings) -> Credentials {
    let mut creds = Credentials::new(token(settings));
    for h in hosts(settings, &process_env) {
        creds = creds.with_host(&h.host, h.user, h.token);
    }
    creds
}

/// The token for https remotes and the GitHub API: the variable `github.token_env` names
/// (default GITHUB_TOKEN), else GH_TOKEN (the GitHub CLI's), else GITHUB_TOKEN.
fn token(settings: &Settings) -> Option<Secret> {
    [
        settings.github_token_env.value.as_str(),
        "GH_TOKEN",
        "GITHUB_TOKEN",
    ]
    .iter()
    .find_map(|var| std::env::var(var).ok().and_then(Secret::new))
}

/// `github.api_url`; when left at its default, GITHUB_API_URL as GitHub Actions sets it (on
/// GitHub Enterprise it names the server's API).
fn github_api_url(settings: &Settings) -> String {
    if settings.github_api_url.source == crate::settings::Source::Default
        && let Some(url) = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|u| u.starts_with("http"))
    {
        return url;
    }
    settings.github_api_url.value.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_job_token_goes_only_to_the_instance_the_job_runs_on() {
        let ci = env(&[
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://gitlab.corp:8443"),
            ("CI_JOB_TOKEN", "job-123"),
        ]);
        let t = gitlab_token(&ci, "gitlab.corp:8443", "GITLAB_TOKEN");
        assert_eq!(
            t.map(|(t, job)| (t.expose().to_string(), job)),
            Some(("job-123".into(), true))
        );
        assert!(gitlab_token(&ci, "gitlab.com", "GITLAB_TOKEN").is_none());
        let both = env(&[
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("CI_JOB_TOKEN", "job-123"),
            ("GITLAB_TOKEN", "glpat-1"),
        ]);
        let t = gitlab_token(&both, "gitlab.com", "GITLAB_TOKEN");
        assert_eq!(
            t.map(|(t, job)| (t.expose().to_string(), job)),
            Some(("glpat-1".into(), false))
        );
        let outside = env(&[
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("CI_JOB_TOKEN", "j"),
        ]);
        assert!(gitlab_token(&outside, "gitlab.com", "GITLAB_TOKEN").is_none());
    }
}
