//! The semantic check: from the serde mirror (plus the node tree, for places) to the checked
//! [`Pipeline`]: cross-field rules, regexes, globs, durations, sizes, templates, and the files
//! the pipeline names. Every problem is collected; none stops the check. Pipeline-level fields
//! are here, tasks in `task.rs`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::GlobSet;

mod gitea;
mod github;
mod gitlab;
mod listing;
pub use github::valid_login as valid_github_login;
pub use gitlab::GITLAB_COM;
pub use listing::valid_host;
mod task;

use super::diag::{Rule, Source};
use super::file::{DurationSpec, ModelFile, PipelineFile, RepoEntry, SizeSpec, TaskModelFile};
use super::model::*;
use super::template::{Context, Scope, Template};
use super::units::{parse_duration, parse_size};
use super::yaml::{Node, Value};
use crate::error::Error;

pub(super) struct Checker<'a> {
    pub src: Source<'a>,
    pub root: &'a Node,
    pub dir: &'a Path,
    /// The pipeline's directory as the user gave it (empty for the current directory), for
    /// messages.
    pub shown_dir: &'a Path,
    pub poisoned: &'a HashSet<(usize, usize)>,
    pub errors: Vec<Error>,
    /// The pipeline's name, for rendering `find:` templates.
    pub pipeline_name: &'a str,
}

impl<'a> Checker<'a> {
    /// The value node of `key` in `parent`, unless the structural check reported it.
    fn field(&self, parent: Option<&'a Node>, key: &str) -> Option<&'a Node> {
        parent
            .and_then(|p| p.get(key))
            .filter(|n| !self.poisoned.contains(&(n.span.line, n.span.col)))
            .filter(|n| n.value != Value::Null)
    }

    /// The items of a list node the structural check kept, in order (they line up with the
    /// deserialised list).
    fn items(&self, node: Option<&'a Node>) -> Vec<&'a Node> {
        match node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter(|n| !self.poisoned.contains(&(n.span.line, n.span.col)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn push(&mut self, e: Error) {
        self.errors.push(e);
    }

    fn at(&mut self, rule: Rule, message: impl Into<String>, node: &Node) -> &mut Error {
        let e = self.src.error(rule, message, node);
        self.errors.push(e);
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    fn hint(
        &mut self,
        rule: Rule,
        message: impl Into<String>,
        node: &Node,
        hint: impl Into<String>,
    ) {
        let e = self.src.error(rule, message, node).hint(hint);
        self.errors.push(e);
    }

    pub fn pipeline(
        &mut self,
        file: PipelineFile,
        path: &Path,
        overrides: &[(String, String)],
    ) -> Pipeline {
        let root = Some(self.root);
        if let (Some(v), Some(node)) = (file.version, self.field(root, "version"))
            && v != 1
        {
            self.hint(
                Rule::Version,
                format!("unsupported pipeline version {v}"),
                node,
                "this codefleet reads `version: 1`; a newer codefleet may read this file",
            );
        }
        if let Some(node) = self.field(root, "name") {
            self.pipeline_name(&file.name, node);
        }

        let mut vars: BTreeMap<String, String> = file
            .vars
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.text()))
            .collect();
        for (k, v) in overrides {
            if vars.contains_key(k) {
                vars.insert(k.clone(), v.clone());
            } else {
                self.undeclared_var(k, v, &vars);
            }
        }

        let repos = self.repos(file.repos.as_deref().unwrap_or(&[]));

        let branch = self
            .template_field(root, "branch", file.branch.as_deref(), Scope::REPO, &vars)
            .unwrap_or_else(|| Template::parse("codefleet/{{ pipeline }}").unwrap_or_default());
        if let Some(node) = self.field(root, "branch") {
            let sample = branch.render(&Context {
                pipeline: &file.name,
                run_id: "run",
                repo_name: Some("repo"),
                vars: Some(&vars),
                ..Context::default()
            });
            if let Some(bad) = bad_ref_part(&sample) {
                self.hint(
                    Rule::BadName,
                    format!("branch `{sample}` is not a valid git branch name: {bad}"),
                    node,
                    "use letters, digits, `-`, `_`, `.` and `/`, e.g. `codefleet/{{ pipeline }}`",
                );
            }
        }
        let commit_node = self.field(root, "commit");
        let commit_file = file.commit.clone().unwrap_or_default();
        let message = self
            .template_field(
                commit_node,
                "message",
                commit_file.message.as_deref(),
                Scope::TASK,
                &vars,
            )
            .unwrap_or_else(|| Template::parse("{{ task }}").unwrap_or_default());
        let author = match (&commit_file.author, self.field(commit_node, "author")) {
            (Some(text), Some(node)) => self.author(text, node),
            _ => Author::default(),
        };

        let model_node = self.field(root, "model");
        let model_file = file.model.clone().unwrap_or_default();
        let model = self.model(&model_file, model_node);
        let budget_node = self.field(model_node, "budget");
        let budget_file = model_file.budget.clone().unwrap_or_default();
        let budget = Budget {
            max_tokens: budget_file.max_tokens,
            max_requests: budget_file.max_requests,
            max_wall_time: self.duration(
                budget_file.max_wall_time.as_ref(),
                budget_node,
                "max_wall_time",
            ),
        };
        let model_concurrency = self
            .at_least_one(model_file.concurrency, model_node, "concurrency")
            .unwrap_or(8);

        let policy = self.policy(&file);

        let pr_node = self.field(root, "pr");
        let pr_file = file.pr.clone().unwrap_or_default();
        let pr = PullRequest {
            title: self
                .template_field(
                    pr_node,
                    "title",
                    pr_file.title.as_deref(),
                    Scope::REPO,
                    &vars,
                )
                .unwrap_or_else(|| {
                    Template::parse("codefleet: {{ pipeline }}").unwrap_or_default()
                }),
            body: self
                .template_field(
                    pr_node,
                    "body",
                    pr_file.body.as_deref(),
                    Scope::PR_BODY,
                    &vars,
                )
                .unwrap_or_else(|| Template::text(file.description.clone().unwrap_or_default())),
            draft: pr_file.draft.unwrap_or(false),
            labels: pr_file.labels.unwrap_or_default(),
            reviewers: pr_file.reviewers.unwrap_or_default(),
            assignees: pr_file.assignees.unwrap_or_default(),
            remove_source_branch: pr_file.remove_source_branch.unwrap_or(false),
            recreate: pr_file.recreate.unwrap_or_default(),
            default_body: pr_file.body.is_none(),
            commit_via: pr_file.commit_via.unwrap_or_default(),
        };

        let tasks = self.tasks(&file.tasks, &model, &vars);

        Pipeline {
            path: path.to_path_buf(),
            dir: self.dir.to_path_buf(),
            name: file.name,
            description: file.description,
            repos,
            vars,
            branch,
            commit: Commit { message, author },
            model,
            budget,
            model_concurrency,
            policy,
            pr,
            tasks,
            explicit: Explicit {
                branch: file.branch.is_some(),
                author: commit_file.author.is_some(),
                model_concurrency: model_file.concurrency.is_some(),
            },
        }
    }

    /// `--var KEY=VALUE` overrides a declared variable; a key the pipeline does not declare is
    /// a typo more often than not, so it stops the run naming the declared ones.
    fn undeclared_var(&mut self, key: &str, value: &str, vars: &BTreeMap<String, String>) {
        let hint = if vars.is_empty() {
            format!("this pipeline declares no variables; add `vars: {{ {key}: ... }}` to it")
        } else {
            let list = vars
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            match crate::error::closest(key, vars.keys().map(String::as_str)) {
                Some(c) => format!("did you mean `{c}`? declared variables: {list}"),
                None => format!("declared variables: {list}"),
            }
        };
        let message = format!(
            "`--var {key}={value}`: the pipeline `{}` declares no variable `{key}`",
            self.pipeline_name
        );
        match self.field(Some(self.root), "vars") {
            Some(node) => self.hint(Rule::VarArg, message, node, hint),
            None => self.push(
                Rule::VarArg
                    .error(message)
                    .in_file(self.src.path)
                    .hint(hint),
            ),
        }
    }

    fn pipeline_name(&mut self, name: &str, node: &Node) {
        if name.trim().is_empty() {
            self.hint(
                Rule::Empty,
                "the pipeline name is empty",
                node,
                "name it, e.g. `name: rename-api`",
            );
            return;
        }
        if let Some(bad) = bad_ref_part(name) {
            self.hint(
                Rule::BadName,
                format!("pipeline name `{name}` cannot be part of a branch name: {bad}"),
                node,
                "use letters, digits, `-`, `_`, `.` and `/`, e.g. `rename-api`",
            );
        }
    }

    fn author(&mut self, text: &str, node: &Node) -> Author {
        let parsed = Author::parse(text);
        parsed.unwrap_or_else(|| {
            self.hint(
                Rule::Author,
                format!("commit author `{text}` is not `Name <email>`"),
                node,
                "write it like `codefleet <codefleet@localhost>`",
            );
            Author::default()
        })
    }

    fn repos(&mut self, entries: &[RepoEntry]) -> Vec<RepoSource> {
        let nodes = self.items(self.field(Some(self.root), "repos"));
        let mut out = Vec::new();
        for (entry, node) in entries.iter().zip(nodes) {
            let given: Vec<&str> = [
                ("path", entry.path.is_some()),
                ("url", entry.url.is_some()),
                ("list", entry.list.is_some()),
                ("github", entry.github.is_some()),
                ("gitlab", entry.gitlab.is_some()),
                ("gitea", entry.gitea.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| name)
            .collect();
            match given.as_slice() {
                [] => {
                    // A key that was reported already (unknown, wrong type) explains it.
                    if node_has_reported_key(node, self.poisoned) {
                        continue;
                    }
                    self.hint(
                        Rule::RepoEntry,
                        "a `repos` entry needs one of `path`, `url`, `list`, `github`, `gitlab` \
                         or `gitea`",
                        node,
                        "e.g. `- path: .`, `- url: https://host/org/repo.git`, `- list: repos.txt` \
                         or `- github: { org: acme }`",
                    );
                    continue;
                }
                [_] => {}
                [first, second, ..] => {
                    let at = node.key(second).unwrap_or(node);
                    self.hint(
                        Rule::RepoEntry,
                        format!("a `repos` entry has both `{first}` and `{second}`"),
                        at,
                        "give each repository its own `- ` entry",
                    );
                    continue;
                }
            }
            if entry.git_ref.is_some() && entry.url.is_none() {
                let at = node.key("ref").unwrap_or(node);
                self.hint(
                    Rule::NotApplicable,
                    "`ref` applies only to `url:` entries",
                    at,
                    "a local checkout runs from its HEAD, or from `--base REV`",
                );
            }
            if entry.depth.is_some() && entry.url.is_none() {
                let at = node.key("depth").unwrap_or(node);
                self.hint(
                    Rule::NotApplicable,
                    "`depth` applies only to `url:` entries",
                    at,
                    "a local checkout is used as it is",
                );
            }
            if let (Some(path), Some(n)) = (&entry.path, self.field(Some(node), "path")) {
                if path.trim().is_empty() {
                    self.hint(
                        Rule::Empty,
                        "empty repository path",
                        n,
                        "use `.` for the pipeline's directory",
                    );
                    continue;
                }
                let resolved = self.dir.join(path);
                if path.contains(['*', '?', '[', '{']) {
                    let pattern = resolved.to_string_lossy().replace('\\', "/");
                    match glob(&pattern) {
                        Ok(_) => out.push(RepoSource::Glob(pattern)),
                        Err(e) => self.glob_error(path, &e, n),
                    }
                } else {
                    out.push(RepoSource::Path(resolved));
                }
            } else if let (Some(url), Some(n)) = (&entry.url, self.field(Some(node), "url")) {
                if url.trim().is_empty() {
                    self.at(Rule::Empty, "empty repository URL", n);
                    continue;
                }
                out.push(RepoSource::Url {
                    url: url.clone(),
                    git_ref: entry.git_ref.clone(),
                    depth: entry.depth,
                });
            } else if let (Some(list), Some(n)) = (&entry.list, self.field(Some(node), "list"))
                && let Some(p) = self.existing_file(list, n, "repository list")
            {
                out.push(RepoSource::List(p));
            } else if let (Some(github), Some(n)) =
                (&entry.github, self.field(Some(node), "github"))
                && let Some(selector) = self.github(github, n)
            {
                out.push(RepoSource::GitHub(selector));
            } else if let (Some(gitlab), Some(n)) =
                (&entry.gitlab, self.field(Some(node), "gitlab"))
                && let Some(selector) = self.gitlab(gitlab, n)
            {
                out.push(RepoSource::GitLab(selector));
            } else if let (Some(gitea), Some(n)) = (&entry.gitea, self.field(Some(node), "gitea"))
                && let Some(selector) = self.gitea(gitea, n)
            {
                out.push(RepoSource::Gitea(selector));
            }
        }
        out
    }

    /// Resolves `rel` against the pipeline's directory and checks it is a readable file.
    fn existing_file(&mut self, rel: &str, node: &Node, what: &str) -> Option<PathBuf> {
        if rel.trim().is_empty() {
            self.at(Rule::Empty, format!("empty {what} path"), node);
            return None;
        }
        let path = self.dir.join(rel);
        if path.is_file() {
            return Some(path);
        }
        let why = if path.exists() {
            "is not a file"
        } else {
            "does not exist"
        };
        self.hint(
            Rule::MissingFile,
            format!("{what} `{}` {why}", self.shown_dir.join(rel).display()),
            node,
            "paths in a pipeline are relative to the pipeline file's directory",
        );
        None
    }

    fn model(&mut self, m: &ModelFile, node: Option<&'a Node>) -> Model {
        Model {
            provider: m.provider.map(Provider::from),
            name: m.name.clone(),
            base_url: m.base_url.clone(),
            api_key_env: m.api_key_env.clone(),
            edit_format: m.edit_format.map_or(EditFormat::Auto, EditFormat::from),
            temperature: m.temperature,
            timeout: self.duration(m.timeout.as_ref(), node, "timeout"),
            reflections: m.reflections.unwrap_or(3),
        }
    }

    fn task_model(
        &mut self,
        base: &Model,
        m: Option<&TaskModelFile>,
        node: Option<&'a Node>,
    ) -> Model {
        let Some(m) = m else {
            return base.clone();
        };
        Model {
            provider: m.provider.map(Provider::from).or(base.provider),
            name: m.name.clone().or_else(|| base.name.clone()),
            base_url: m.base_url.clone().or_else(|| base.base_url.clone()),
            api_key_env: m.api_key_env.clone().or_else(|| base.api_key_env.clone()),
            edit_format: m.edit_format.map_or(base.edit_format, EditFormat::from),
            temperature: m.temperature.or(base.temperature),
            timeout: self
                .duration(m.timeout.as_ref(), node, "timeout")
                .or(base.timeout),
            reflections: m.reflections.unwrap_or(base.reflections),
        }
    }

    fn duration(
        &mut self,
        spec: Option<&DurationSpec>,
        parent: Option<&'a Node>,
        key: &str,
    ) -> Option<Duration> {
        let node = self.field(parent, key)?;
        match spec? {
            DurationSpec::Seconds(s) => Some(Duration::from_secs(*s)),
            DurationSpec::Text(t) => match parse_duration(t) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.hint(
                        Rule::Duration,
                        format!("bad duration for `{key}`: {}", e.message),
                        node,
                        e.hint,
                    );
                    None
                }
            },
        }
    }

    fn size(
        &mut self,
        spec: Option<&SizeSpec>,
        parent: Option<&'a Node>,
        key: &str,
    ) -> Option<u64> {
        let node = self.field(parent, key)?;
        match spec? {
            SizeSpec::Bytes(b) => Some(*b),
            SizeSpec::Text(t) => match parse_size(t) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.hint(
                        Rule::Size,
                        format!("bad size for `{key}`: {}", e.message),
                        node,
                        e.hint,
                    );
                    None
                }
            },
        }
    }

    fn at_least_one(
        &mut self,
        value: Option<u32>,
        parent: Option<&'a Node>,
        key: &str,
    ) -> Option<usize> {
        let v = value?;
        if v == 0
            && let Some(node) = self.field(parent, key)
        {
            self.at(Rule::Range, format!("`{key}` must be at least 1"), node);
            return None;
        }
        Some(v as usize)
    }

    fn policy(&mut self, file: &PipelineFile) -> Policy {
        let node = self.field(Some(self.root), "policy");
        let p = file.policy.clone().unwrap_or_default();
        let set_size = self.size(p.max_file_size.as_ref(), node, "max_file_size");
        let max_file_size = set_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);
        let mut deny_patterns: Vec<String> = BUILTIN_DENY.iter().map(|s| s.to_string()).collect();
        deny_patterns.extend(self.globs(p.deny.as_deref(), node, "deny"));
        Policy {
            max_file_size,
            max_file_size_set: set_size.is_some(),
            allow_create: p.allow_create.unwrap_or(true),
            allow_delete: p.allow_delete.unwrap_or(false),
            deny: glob_set(&deny_patterns).unwrap_or_else(|_| GlobSet::empty()),
            deny_patterns,
        }
    }

    /// Checks each glob of a list field; returns the valid ones.
    fn globs(
        &mut self,
        list: Option<&[String]>,
        parent: Option<&'a Node>,
        key: &str,
    ) -> Vec<String> {
        let nodes = self.items(self.field(parent, key));
        let mut out = Vec::new();
        for (pattern, node) in list.unwrap_or(&[]).iter().zip(nodes) {
            match glob(pattern) {
                Ok(_) => out.push(pattern.clone()),
                Err(e) => self.glob_error(pattern, &e, node),
            }
        }
        out
    }

    fn glob_error(&mut self, pattern: &str, e: &globset::Error, node: &Node) {
        self.hint(
            Rule::Glob,
            format!("invalid glob `{pattern}`: {}", e.kind()),
            node,
            "globs use `*` (within a directory), `**` (across directories), `?`, `[abc]` and `{a,b}`",
        );
    }

    /// Parses and checks the template of an optional text field.
    fn template_field(
        &mut self,
        parent: Option<&'a Node>,
        key: &str,
        text: Option<&str>,
        scope: Scope,
        vars: &BTreeMap<String, String>,
    ) -> Option<Template> {
        let text = text?;
        let node = self.field(parent, key)?;
        self.template(text, node, scope, vars)
    }

    fn template(
        &mut self,
        text: &str,
        node: &Node,
        scope: Scope,
        vars: &BTreeMap<String, String>,
    ) -> Option<Template> {
        let errors = match Template::parse_and_check(text, scope, vars) {
            Ok(t) => return Some(t),
            Err(errors) => errors,
        };
        for e in errors {
            let rule = if e.syntax {
                Rule::TemplateSyntax
            } else {
                Rule::TemplateVar
            };
            let mut err = self.src.error_in(rule, e.message, node, e.offset, e.width);
            if let Some(h) = e.hint {
                err = err.hint(h);
            }
            self.push(err);
        }
        None
    }
}

fn node_has_reported_key(node: &Node, poisoned: &HashSet<(usize, usize)>) -> bool {
    match &node.value {
        Value::Map(entries) => entries.iter().any(|(k, v)| {
            poisoned.contains(&(k.span.line, k.span.col))
                || poisoned.contains(&(v.span.line, v.span.col))
        }),
        _ => false,
    }
}

/// Why `text` cannot be part of a git ref name, per `git check-ref-format`.
pub fn bad_ref_part(text: &str) -> Option<&'static str> {
    if text.contains(char::is_whitespace) {
        Some("it contains whitespace")
    } else if text.contains("..") {
        Some("it contains `..`")
    } else if text.contains(['~', '^', ':', '?', '*', '[', '\\']) || text.contains("@{") {
        Some("it contains one of `~ ^ : ? * [ \\ @{`")
    } else if text.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if text.starts_with(['-', '.', '/'])
        || text.ends_with(['.', '/'])
        || text.ends_with(".lock")
    {
        Some("it starts with `-`, `.` or `/`, or ends with `.`, `/` or `.lock`")
    } else if text.contains("//") || text.contains("/.") {
        Some("it contains `//` or `/.`")
    } else {
        None
    }
}
