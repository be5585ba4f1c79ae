//! The catalogue of error codes: every code codefleet gives an error, once, with the title the
//! README's table shows and the exit its errors imply. Codes are part of codefleet's interface:
//! a code is never given a second meaning, and a retired one stays in [`RETIRED`].

use super::Exit;

/// One stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// `E` followed by three digits.
    pub id: &'static str,
    /// The exit an error with this code implies when it ends the command.
    pub exit: Exit,
    /// What the problem is, as the README's table says it (Markdown).
    pub title: &'static str,
}

/// Declares each code as a constant and [`ALL`] as the list of them, in order.
macro_rules! catalogue {
    ($($name:ident = $id:literal, $exit:ident, $title:literal;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $title)]
            pub const $name: Code = Code { id: $id, exit: Exit::$exit, title: $title };
        )*
        /// Every code, in the order of its id.
        pub const ALL: &[Code] = &[$($name),*];
        /// Each code with the name of its constant, for the test that finds it in use.
        #[cfg(test)]
        const NAMED: &[(&str, Code)] = &[$((stringify!($name), $name)),*];
    };
}

catalogue! {
    IO = "E001", Usage, "a file cannot be read or written";
    YAML = "E010", Usage, "invalid YAML (or not UTF-8)";
    DOCUMENT = "E011", Usage, "empty file, or more than one YAML document";
    UNKNOWN_FIELD = "E012", Usage, "unknown field (help: the closest valid name)";
    WRONG_TYPE = "E013", Usage, "wrong type";
    MISSING_FIELD = "E014", Usage, "missing required field";
    UNKNOWN_VALUE = "E015", Usage, "unknown value (provider, edit_format, on_fail, per, format)";
    VERSION = "E016", Usage, "unsupported `version`";
    DUPLICATE_KEY = "E017", Usage, "key given twice";
    RANGE = "E018", Usage, "number out of range";
    INTERNAL = "E019", Usage, "internal: the checked pipeline could not be read (a bug; please report it)";
    NO_KIND = "E020", Usage, "task with no kind";
    TWO_KINDS = "E021", Usage, "task with two kinds";
    DUPLICATE_TASK = "E022", Usage, "duplicate task name";
    NO_TASKS = "E023", Usage, "no tasks";
    NOT_APPLICABLE = "E024", Usage, "field does not apply to the task's kind (`format` without `edits`, …)";
    PER_WITHOUT_FILES = "E025", Usage, "`per` without `files`";
    EMPTY = "E026", Usage, "empty value (name, find, command, `files: []`)";
    PATH_ESCAPES = "E027", Usage, "`cwd` leaves the repository";
    BAD_NAME = "E028", Usage, "name or branch not valid in a git branch name";
    GROUP_REF = "E029", Usage, "`$name` in a regex `with:` names no group of `find` (`$1_mod` is group `1_mod`: write `${1}_mod`)";
    REGEX = "E030", Usage, "invalid regex (caret at the offending character)";
    GLOB = "E031", Usage, "invalid glob";
    SIZE = "E032", Usage, "invalid size";
    DURATION = "E033", Usage, "invalid duration";
    TEMPLATE_VAR = "E034", Usage, "unknown or unavailable template variable";
    TEMPLATE_SYNTAX = "E035", Usage, "malformed template";
    REPO_ENTRY = "E036", Usage, "bad `repos` entry (none or several of path, url, list)";
    MISSING_FILE = "E037", Usage, "a file the pipeline names does not exist (edits, patch, prompt_file, list)";
    VAR_ARG = "E038", Usage, "`--var` is not KEY=VALUE, or names a variable the pipeline does not declare";
    AUTHOR = "E039", Usage, "commit author is not `Name <email>`";
    INIT_EXISTS = "E040", Usage, "`init` target already exists";
    CONFIG_UNREADABLE = "E050", Usage, "config file unreadable or missing";
    CONFIG_UNKNOWN_KEY = "E051", Usage, "unknown key in a config file";
    CONFIG_BAD_VALUE = "E052", Usage, "bad value in a config file";
    UNKNOWN_PROFILE = "E053", Usage, "unknown profile";
    BAD_ENV = "E054", Usage, "bad `CODEFLEET_*` value";
    SETTINGS_INTERNAL = "E059", Usage, "internal settings error (a bug)";
    UNKNOWN_EDIT_FORMAT = "E060", Usage, "unknown edit format";
    NOT_UTF8 = "E061", Usage, "input is not UTF-8";
    BAD_DIRECTORY = "E062", Usage, "bad `-C` directory";
    EDIT_NOT_APPLIED = "E063", Failed, "an edit was not applied (its reply line, path and reason)";
    CHANGE_NOT_WRITTEN = "E064", Failed, "a change could not be written";
    NO_EDITS = "E065", Failed, "no edits found in the input";
    NO_INPUT = "E066", Usage, "no input: stdin is a terminal and no FILE was given";
    PIPELINE_INVALID = "E091", Usage, "the pipeline has problems; nothing ran";
    PUBLISH_WITHOUT_RUN = "E092", Usage, "`--push`/`--pr` with `--dry-run`/`--check` (they publish a real run)";
    DRY_RUN_AND_CHECK = "E093", Usage, "`--dry-run` and `--check` exclude each other";
    ONE_REPOSITORY = "E094", Usage, "this command works on one repository at a time";
    BAD_SHARD = "E095", Usage, "bad `--shard` (write K/N, 1 ≤ K ≤ N)";
    UNREAD_FLAG = "E096", Usage, "a global flag the command does not read (`--repo`, `--shard`, `--var`, `--json` where they would do nothing)";
    NOT_A_REPO = "E200", Usage, "not inside a git repository";
    BARE = "E201", Failed, "needs a working tree, the repository is bare";
    UNBORN = "E202", Failed, "no commits yet: nothing to base a run on";
    BAD_REVISION = "E203", Failed, "the base revision does not name a commit";
    GIT = "E204", Failed, "git failed unexpectedly";
    BRANCH_MOVED = "E205", Failed, "the run branch moved while codefleet worked";
    BAD_BRANCH_NAME = "E206", Usage, "invalid branch name";
    DIRTY = "E207", Failed, "`--checkout` refused: uncommitted changes";
    BAD_PATH = "E208", Failed, "a change names a path that cannot be committed";
    RUN_NOT_FOUND = "E209", Usage, "no such run in this repository";
    ROLLBACK_MOVED = "E210", Failed, "rollback refused: the branch is not where codefleet left it";
    BAD_JOURNAL = "E211", Failed, "a run journal file is damaged";
    LOCKED = "E212", Failed, "another codefleet holds the repository lock";
    CHECKED_OUT = "E213", Failed, "the branch is checked out in a working tree, so it is not moved";
    FILTER_DRIVER = "E214", Failed, "the path uses a clean filter driver (e.g. LFS) codefleet cannot run";
    NOTHING_TO_ROLL_BACK = "E215", Usage, "nothing to roll back";
    BAD_IDENTITY = "E216", Usage, "invalid author or committer";
    THREADS = "E300", Usage, "cannot start worker threads";
    REPO_GLOB = "E301", Usage, "invalid repository glob, or a `--repo` glob that matches no repository";
    FOREIGN_COMMITS = "E302", Failed, "the run branch (or the remote's, as last fetched) has commits codefleet did not make (`--force` overrides)";
    BASE_IO = "E303", Usage, "a base file or commit cannot be read or written";
    RUN_INTERNAL = "E304", Failed, "the run stopped on an internal error (a bug; please report it)";
    NESTED_REPO = "E305", Usage, "a `repos:` path is inside another repository, not a repository itself";
    OTHER_PIPELINE = "E309", Failed, "the run branch holds another pipeline's commits (two pipelines share a `branch:`; `--force` overrides)";
    MISSING_KEY = "E400", Usage, "no API key: the variable the message names is not set";
    AUTH = "E401", Failed, "the provider refused the credentials (HTTP 401/403)";
    REJECTED = "E402", Failed, "the provider rejected the request (HTTP 400/404/422…; its own message quoted)";
    QUOTA = "E403", Failed, "the provider says the quota or credit is exhausted (not retried)";
    RATE_LIMITED = "E404", Failed, "rate limited (HTTP 429) and still so after the retries";
    SERVER = "E405", Failed, "provider server error or overload (HTTP 5xx, 529) after the retries";
    CONNECTION = "E406", Failed, "the connection failed or closed before the reply ended, after the retries";
    TIMEOUT = "E407", Failed, "no reply within `model.timeout`, after the retries";
    UNREADABLE = "E408", Failed, "the reply is not the provider's wire format";
    STREAM_ERROR = "E409", Failed, "the provider reported an error in the middle of a streamed reply";
    CIRCUIT_OPEN = "E410", Failed, "circuit open: too many model requests failed in a row, so none are sent for a while";
    REPLAY_MISS = "E411", Failed, "cache mode `replay` and no cached reply for the request";
    MODEL_SETTINGS = "E412", Usage, "model settings incomplete or invalid (no model name, bad `base_url`)";
    MODEL_INTERRUPTED = "E413", Failed, "interrupted while waiting to send or retry a model request";
    PRICES = "E414", Usage, "bad model price in `CODEFLEET_MODEL_PRICES`";
    BUDGET_TOKENS = "E440", Failed, "budget: `model.budget.max_tokens` reached; no request sent";
    BUDGET_REQUESTS = "E441", Failed, "budget: `model.budget.max_requests` reached; no request sent";
    BUDGET_TIME = "E442", Failed, "budget: `model.budget.max_wall_time` reached; no request sent";
    NO_CLIENT = "E450", Usage, "a model task has no model client (a run built in code without `RunOptions::models`)";
    NO_MODEL = "E451", Usage, "a model task names no model (`model.name` in the pipeline or settings)";
    NO_CLONE_CACHE = "E500", Failed, "a remote target without a clone cache (library use)";
    UNREACHABLE = "E501", Failed, "a remote cannot be reached or listed (host down, login refused)";
    FETCH = "E502", Failed, "fetching into the clone cache failed";
    EMPTY_REMOTE = "E503", Failed, "the remote repository is empty";
    NO_REF = "E504", Failed, "`ref:` names no branch or tag of the remote (or it has no default branch)";
    DAMAGED_CACHE = "E505", Failed, "a clone cache entry is damaged (delete it; the next run clones again)";
    CACHE_LOCKED = "E506", Failed, "another codefleet run holds the clone cache entry";
    CLONE_JOBS = "E507", Usage, "`--clone-jobs 0`";
    CLONE_STOPPED = "E509", Failed, "a clone stopped (interrupted, or an internal error)";
    NOT_PUBLISHABLE = "E510", Usage, "a repository cannot be published (its clone or checkout cannot be opened)";
    NO_ORIGIN = "E511", Usage, "a local repository has no `origin` to push to";
    LEASE_REFUSED = "E520", Failed, "push refused by the lease: the remote branch moved";
    PUSH_REJECTED = "E521", Failed, "the server refused the push (protected branch, hook, archived repository)";
    PUSH_FAILED = "E522", Failed, "the push failed (network, permissions) after retries";
    GITHUB_UNREACHABLE = "E530", Failed, "the GitHub API cannot be reached";
    GITHUB_RATE_LIMIT = "E531", Failed, "GitHub's rate limit lasts longer than codefleet waits";
    GITHUB_REFUSED = "E532", Failed, "GitHub refused a request (its status and message)";
    PR_NOT_OPEN = "E533", Failed, "GitHub says a pull request exists but none is open for the branch";
    FORGE_NAME = "E534", Usage, "the owner and name cannot be told from the remote URL";
    PR_BASE = "E535", Usage, "the base branch of the pull request is unknown";
    FORGE_UNSUPPORTED = "E536", Failed, "the forge does not support what was asked";
    NOT_A_REPORT = "E540", Usage, "`report merge`: a file is not a run report";
    REPORT_VERSION = "E541", Usage, "`report merge`: a report of another report version";
    REPORT_MODES = "E542", Usage, "`report merge`: reports of different modes (dry run and real run)";
    GRAPHQL_REFUSED = "E545", Failed, "GitHub's GraphQL API refused a mutation (its errors)";
    API_COMMIT_STALE = "E546", Failed, "a commit through the API found the branch moved (`expectedHeadOid`, GitHub's `STALE_DATA`)";
    API_COMMIT_INEXPRESSIBLE = "E547", Failed, "`pr.commit_via: api` cannot express a change (executable bit, symlink, submodule, merge commit, file over 100 MiB)";
    API_BRANCH_FOREIGN = "E548", Failed, "`pr.commit_via: api`: the remote branch holds commits codefleet did not make (`--force` replaces them)";
    AUTO_MERGE_REFUSED = "E549", Failed, "auto-merge cannot be enabled (not allowed in the repository, or not for this pull request)";
    NO_GITHUB_OWNER = "E550", Usage, "discovery: no GitHub organisation or user of that name";
    NO_GITHUB_REPO = "E551", Usage, "`--repo owner/name`: no such GitHub repository (and no local path of that name)";
    BAD_REPO_ENTRY = "E552", Usage, "a `--repo`/`--repos-from` entry that names no repository (`github:` without `owner/name`)";
    REPOS_FROM = "E553", Usage, "`--repos-from`: the file (or standard input) cannot be read";
    BRANCH_PER_RUN = "E555", Usage, "`status`/`merge`/`close`: the run branch changes every run (`{{ run_id }}` in `branch:`), so the campaign's branches cannot be found";
    CAMPAIGN_REPO = "E556", Failed, "`status`/`merge`/`close`: a repository names no forge repository (no `origin`, or a URL without owner/name)";
    MERGE_FAILED = "E557", Failed, "`merge`: the forge did not merge a pull request (its head moved, not mergeable, refused)";
    PUSHED_HEAD_UNKNOWN = "E558", Failed, "`close --delete-branch`: the head codefleet pushed is unknown (no marker in the pull request), so the branch is not deleted";
    CAMPAIGN_FLAGS = "E559", Usage, "`merge`/`close`: invalid flags (`--require`, `--max 0`)";
    FORGE_HOST_TWICE = "E560", Usage, "a host listed under two forges (`github.hosts`, `gitlab.hosts`, `gitea.hosts`; github.com and gitlab.com are built in)";
    FORGE_HOST_BAD = "E561", Usage, "a `*.hosts` entry whose `host` is not a host name with an optional port (`gitlab.corp`, `127.0.0.1:8080`)";
    FORGE_API_URL = "E562", Usage, "a forge's `api_url` is not an http(s) URL (`gitlab.api_url`, a `*.hosts` entry's)";
    FORGE_TOKEN_ENV = "E563", Usage, "a forge's `token_env` is not an environment variable name (`gitlab.token_env`, a `*.hosts` entry's)";
    GITLAB_UNKNOWN_USER = "E565", Failed, "GitLab knows no user of a reviewer's or assignee's username";
    GITEA_UNKNOWN_LABEL = "E570", Failed, "Gitea: a label to add does not exist in the repository (Gitea does not create labels)";
    NO_FORGE_OWNER = "E575", Usage, "discovery: no GitLab group, or Gitea organisation or user, of that name";
    FORGE_HOST = "E576", Usage, "a `gitlab:`/`gitea:` entry or `--repo HOST/...` names a host that is not listed as that forge's (`gitlab.hosts`, `gitea.hosts`)";
    NO_FORGE_REPO = "E577", Usage, "`--repo HOST/path`: no such repository on that host (and no local path of that name)";
    SHELL_EMPTY = "E600", Usage, "a shell step's `shell:` is empty";
    SHELL_START = "E601", Usage, "a shell step's command cannot be started (shell missing, bad `cwd:`)";
    SHELL_WORKTREE = "E602", Failed, "the temporary worktree for shell steps cannot be made or reset";
    SHELL_CHANGES = "E603", Failed, "what a shell step changed cannot be read back";
    SECRET_IN_PROMPT = "E800", Usage, "a model task's prompt looks like it holds a private key or credential (`allow_secrets: true` sends it)";
}

/// Codes once given and no longer: never given again, so an old report or script still means
/// what it meant.
pub const RETIRED: &[&str] = &["E090"];

/// The catalogue entry of `id`.
pub fn find(id: &str) -> Option<Code> {
    ALL.iter().copied().find(|c| c.id == id)
}

/// The README's table of codes, generated from the catalogue.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | problem |\n| --- | --- |\n");
    for code in ALL {
        out.push_str(&format!("| {} | {} |\n", code.id, code.title));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// Every `.rs` file under `src/`, with its text.
    fn sources() -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let mut stack = vec![root().join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("read source");
                    out.push((path, text));
                }
            }
        }
        assert!(out.len() > 50, "found too few sources under src/");
        out
    }

    /// The code of a file without its `#[cfg(test)]` module and its comment lines.
    fn non_test_code(text: &str) -> String {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        code.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn codes_are_unique_ordered_and_well_formed() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        for code in ALL {
            let digits = code.id.strip_prefix('E').unwrap_or("");
            assert!(
                digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()),
                "{}",
                code.id
            );
            assert!(!RETIRED.contains(&code.id), "{} is retired", code.id);
            assert!(
                !code.title.is_empty() && !code.title.contains('|'),
                "{}",
                code.id
            );
        }
    }

    #[test]
    fn the_readme_table_is_the_catalogue() {
        let readme = std::fs::read_to_string(root().join("README.md")).expect("read README");
        let section = readme
            .split("\n## Error codes\n")
            .nth(1)
            .expect("README has an `## Error codes` section");
        let start = section.find("| code |").expect("the section has a table");
        let table: String = section[start..]
            .lines()
            .take_while(|l| l.starts_with('|'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            table == markdown_table(),
            "the README's table of error codes differs from src/error/codes.rs; it should read:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn every_code_in_use_is_catalogued_and_every_catalogued_code_is_used() {
        let code = regex::Regex::new(r#""(E[0-9]{3})""#).expect("regex");
        let mut unknown = Vec::new();
        let mut all_text = String::new();
        for (path, text) in sources() {
            if path.ends_with("error/codes.rs") {
                continue;
            }
            for m in code.captures_iter(&text) {
                if find(&m[1]).is_none() {
                    unknown.push(format!("{}: {}", path.display(), &m[1]));
                }
            }
            all_text.push_str(&text);
        }
        assert!(
            unknown.is_empty(),
            "codes missing from src/error/codes.rs:\n{}",
            unknown.join("\n")
        );
        let unused: Vec<&str> = NAMED
            .iter()
            .filter(|(name, c)| {
                !all_text.contains(&format!("\"{}\"", c.id))
                    && !all_text.contains(&format!("codes::{name}"))
                    && !all_text.contains(&format!("code::{name}"))
            })
            .map(|(_, c)| c.id)
            .collect();
        assert!(
            unused.is_empty(),
            "catalogued codes no source gives: {unused:?}"
        );
    }

    #[test]
    fn no_code_outside_src_error_compares_codes_as_strings() {
        let compare = regex::Regex::new(
            r"\.code\s*(==|!=)|(==|!=)\s*[\w.]*\.code\b|contains\(&[\w.]*\.code\)|match [\w.]*\.code\s*\{|_CODES\b",
        )
        .expect("regex");
        let error_dir = root().join("src").join("error");
        let mut offenders = Vec::new();
        for (path, text) in sources() {
            if path.starts_with(&error_dir) {
                continue;
            }
            for line in non_test_code(&text).lines() {
                if compare.is_match(line) {
                    offenders.push(format!("{}: {}", path.display(), line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "match on a typed error (`Error::kind`), not on its code:\n{}",
            offenders.join("\n")
        );
    }
}
