//! GitHub's GraphQL API, for what REST cannot do: commits GitHub signs
//! (`createCommitOnBranch`) and auto-merge (`enablePullRequestAutoMerge`). Requests go through
//! the REST client's transport (its agent, token, retries and rate-limit waits) to
//! `POST {api}/graphql`, or `https://HOST/api/graphql` for GitHub Enterprise's
//! `https://HOST/api/v3`. Each mutation is one document with its input in `variables`, so the
//! input is checked against GitHub's schema as a whole. GraphQL answers `200` with `errors`
//! when it refuses; those become a [`GraphqlError`] (`E545`, `E546`, `E549`).

use serde_json::{Value, json};

use super::github::{GitHub, Method};
use super::{ApiCommit, FileChange, MergeMethod, PullRequest, RepoId};
use crate::error::{Code, Error, Kind, codes};

/// Appends one commit to a branch; GitHub signs it.
const CREATE_COMMIT: &str = "mutation($input: CreateCommitOnBranchInput!) { \
     createCommitOnBranch(input: $input) { commit { oid url } } }";

/// Turns on auto-merge for a pull request.
const AUTO_MERGE: &str = "mutation($input: EnablePullRequestAutoMergeInput!) { \
     enablePullRequestAutoMerge(input: $input) { pullRequest { number } } }";

/// What GitHub's GraphQL API refused, by kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphqlError {
    /// `E545`: the API answered errors (validation, permissions, a missing repository).
    #[error("{repo}: GitHub's GraphQL API refused {what}: {message}")]
    Refused {
        /// The repository.
        repo: RepoId,
        /// What was asked (`a commit on codefleet/x`).
        what: String,
        /// GitHub's messages, redacted.
        message: String,
    },
    /// `E546`: `expectedHeadOid` no longer matched (GitHub's `STALE_DATA`): someone moved the
    /// branch between two commits.
    #[error("{repo}: branch `{branch}` no longer points at {expected}: {message}")]
    Stale {
        /// The repository.
        repo: RepoId,
        /// The branch.
        branch: String,
        /// The head the commit expected.
        expected: String,
        /// GitHub's message.
        message: String,
    },
    /// `E549`: auto-merge cannot be turned on for the pull request.
    #[error("{repo}: auto-merge of pull request #{number} refused: {message}")]
    AutoMerge {
        /// The repository.
        repo: RepoId,
        /// The pull request.
        number: u64,
        /// GitHub's message.
        message: String,
    },
}

impl Kind for GraphqlError {
    fn code(&self) -> Code {
        match self {
            GraphqlError::Refused { .. } => codes::GRAPHQL_REFUSED,
            GraphqlError::Stale { .. } => codes::API_COMMIT_STALE,
            GraphqlError::AutoMerge { .. } => codes::AUTO_MERGE_REFUSED,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                GraphqlError::Refused { .. } => {
                    "the token needs contents (write) access to the repository; see GitHub's \
                     message"
                }
                GraphqlError::Stale { .. } => {
                    "someone pushed to the branch during the run: re-run (it refuses if the \
                     branch holds commits codefleet did not make, unless --force)"
                }
                GraphqlError::AutoMerge { .. } => {
                    "allow auto-merge in the repository's settings (Settings → General → Allow \
                     auto-merge), or merge without --auto"
                }
            }
            .to_string(),
        )
    }
}

impl GitHub {
    /// Where GraphQL requests go: `{api}/graphql`, or `https://HOST/api/graphql` for an
    /// Enterprise server's `https://HOST/api/v3`.
    fn graphql_url(&self) -> String {
        match self.api.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{}/graphql", self.api),
        }
    }

    /// Sends one mutation with `input` as its `$input` variable; its `data`, or GitHub's
    /// `errors` (the first one's `type`, and every message joined).
    fn mutate(
        &self,
        repo: &RepoId,
        what: &'static str,
        document: &str,
        input: Value,
    ) -> Result<Result<Value, (String, String)>, Error> {
        let body = json!({ "query": document, "variables": { "input": input } });
        let reply = self.send(Method::Post, &self.graphql_url(), Some(&body))?;
        if reply.status != 200 {
            return Err(self.refused(what, repo, &reply));
        }
        let errors = reply.body.get("errors").and_then(Value::as_array);
        if let Some(errors) = errors.filter(|e| !e.is_empty()) {
            let kind = errors[0]
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect();
            let message = match messages.is_empty() {
                true => "no message".to_string(),
                false => messages.join("; "),
            };
            return Ok(Err((kind, self.redact(&message))));
        }
        Ok(Ok(reply.body.get("data").cloned().unwrap_or(Value::Null)))
    }

    /// `enablePullRequestAutoMerge` for the pull request's `node_id`.
    pub(super) fn graphql_enable_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        let refused = |message: String| GraphqlError::AutoMerge {
            repo: repo.clone(),
            number: pr.number,
            message,
        };
        if pr.node_id.is_empty() {
            return Err(refused("its node id is unknown".into()).into());
        }
        let mut input = json!({ "pullRequestId": pr.node_id });
        if let Some(m) = method {
            input["mergeMethod"] = json!(match m {
                MergeMethod::Merge => "MERGE",
                MergeMethod::Squash => "SQUASH",
                MergeMethod::Rebase => "REBASE",
            });
        }
        match self.mutate(repo, "enabling auto-merge", AUTO_MERGE, input)? {
            Ok(_) => Ok(()),
            Err((_, message)) => Err(refused(message).into()),
        }
    }

    /// `createCommitOnBranch` with `expectedHeadOid` as the lease; the new commit's id.
    pub(super) fn graphql_create_commit(
        &self,
        repo: &RepoId,
        commit: &ApiCommit,
    ) -> Result<String, Error> {
        // A commit is content-creating: spaced like pull request creations, a second apart
        // (GitHub's secondary rate limits), also across repositories pushed in parallel.
        self.wait_pace();
        let answer = self.mutate(
            repo,
            "making a commit",
            CREATE_COMMIT,
            commit_input(repo, commit),
        )?;
        let data = answer.map_err(|(kind, message)| -> Error {
            if kind == "STALE_DATA" {
                GraphqlError::Stale {
                    repo: repo.clone(),
                    branch: commit.branch.clone(),
                    expected: commit.expected_head.clone(),
                    message,
                }
                .into()
            } else {
                GraphqlError::Refused {
                    repo: repo.clone(),
                    what: format!("a commit on `{}`", commit.branch),
                    message,
                }
                .into()
            }
        })?;
        data.pointer("/createCommitOnBranch/commit/oid")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                GraphqlError::Refused {
                    repo: repo.clone(),
                    what: format!("a commit on `{}`", commit.branch),
                    message: "the answer names no commit".into(),
                }
                .into()
            })
    }
}

/// The `CreateCommitOnBranchInput` of a commit.
fn commit_input(repo: &RepoId, commit: &ApiCommit) -> Value {
    let mut additions = Vec::new();
    let mut deletions = Vec::new();
    for change in &commit.changes {
        match change {
            FileChange::Put { path, contents } => {
                additions.push(json!({ "path": path, "contents": base64(contents) }));
            }
            FileChange::Delete { path } => deletions.push(json!({ "path": path })),
        }
    }
    let mut message = json!({ "headline": commit.headline });
    if !commit.body.is_empty() {
        message["body"] = json!(commit.body);
    }
    json!({
        "branch": {
            "repositoryNameWithOwner": repo.to_string(),
            "branchName": commit.branch,
        },
        "expectedHeadOid": commit.expected_head,
        "message": message,
        "fileChanges": { "additions": additions, "deletions": deletions },
    })
}

/// Standard base64 with padding (GitHub's `Base64String`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn graphql_lives_beside_the_rest_api() {
        let gh = |u: &str| GitHub::new(u, None).graphql_url();
        assert_eq!(
            gh("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            gh("https://ghe.corp/api/v3/"),
            "https://ghe.corp/api/graphql"
        );
        assert_eq!(gh("http://127.0.0.1:9"), "http://127.0.0.1:9/graphql");
    }

    #[test]
    fn commit_inputs_carry_the_lease_message_and_files() {
        let repo = RepoId::from_url("https://github.com/acme/svc").unwrap();
        let input = commit_input(
            &repo,
            &ApiCommit {
                branch: "codefleet/x".into(),
                expected_head: "a".repeat(40),
                headline: "shout".into(),
                body: String::new(),
                changes: vec![
                    FileChange::Put {
                        path: "a.txt".into(),
                        contents: b"hi".to_vec(),
                    },
                    FileChange::Delete {
                        path: "b.txt".into(),
                    },
                ],
            },
        );
        assert_eq!(
            input,
            json!({
                "branch": {"repositoryNameWithOwner": "acme/svc", "branchName": "codefleet/x"},
                "expectedHeadOid": "a".repeat(40),
                "message": {"headline": "shout"},
                "fileChanges": {
                    "additions": [{"path": "a.txt", "contents": "aGk="}],
                    "deletions": [{"path": "b.txt"}]
                }
            })
        );
        let e = Error::from(GraphqlError::Stale {
            repo,
            branch: "codefleet/x".into(),
            expected: "abc".into(),
            message: "Expected branch to point to \"abc\" but it did not. Pull and try again."
                .into(),
        });
        assert_eq!(e.code, "E546");
    }
}
