//! The task checks: one kind per task, fields that fit the kind, and each kind's values
//! (regexes, commands, named files, prompt templates) into a checked [`Task`].

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::GlobSet;
use regex::RegexBuilder;

use super::{Checker, node_has_reported_key};
use crate::error::Error;
use crate::pipeline::diag::{Rule, place_in_text};
use crate::pipeline::file::{OnFailName, PerName, ReplaceFile, TaskFile};
use crate::pipeline::model::*;
use crate::pipeline::template::{Context, Scope, Template, TemplateError};
use crate::pipeline::yaml::{Node, Value};

/// The kinds a task may have; `prompt_file` is the `prompt` kind read from a file.
const KINDS: [&str; 8] = [
    "replace",
    "patch",
    "edits",
    "prompt",
    "prompt_file",
    "ask",
    "run",
    "check",
];

impl<'a> Checker<'a> {
    pub(super) fn tasks(
        &mut self,
        tasks: &[TaskFile],
        model: &Model,
        vars: &BTreeMap<String, String>,
    ) -> Vec<Task> {
        let list_node = self.field(Some(self.root), "tasks");
        if let Some(n) = list_node
            && tasks.is_empty()
            && matches!(&n.value, Value::Seq(items) if items.is_empty())
        {
            let key = self.root.key("tasks").unwrap_or(n);
            self.hint(
                Rule::NoTasks,
                "the pipeline has no tasks",
                key,
                "add at least one task, e.g. `- name: rename` with `replace: { find: old, with: new }`",
            );
        }
        let nodes = self.items(list_node);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, (task, node)) in tasks.iter().zip(nodes).enumerate() {
            if let Some(name_node) = self.field(Some(node), "name") {
                if task.name.trim().is_empty() {
                    self.hint(
                        Rule::Empty,
                        "the task name is empty",
                        name_node,
                        "name what the task does; it is the default commit message",
                    );
                } else if let Some(line) = seen.get(&task.name) {
                    self.hint(
                        Rule::DuplicateTask,
                        format!("two tasks are named `{}`", task.name),
                        name_node,
                        format!("the first is on line {line}; task names must be unique"),
                    );
                } else {
                    seen.insert(task.name.clone(), name_node.span.line);
                }
            }
            if let Some(t) = self.task(i, task, node, model, vars) {
                out.push(t);
            }
        }
        out
    }

    fn task(
        &mut self,
        index: usize,
        t: &TaskFile,
        node: &'a Node,
        base_model: &Model,
        vars: &BTreeMap<String, String>,
    ) -> Option<Task> {
        let label = if t.name.is_empty() {
            format!("task {}", index + 1)
        } else {
            format!("task `{}`", t.name)
        };
        // Kinds are counted from the YAML keys, so a kind whose value was reported as malformed
        // still counts (and does not also produce "no kind").
        let kinds: Vec<&'a Node> = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .filter(|(k, _)| k.as_str().is_some_and(|k| KINDS.contains(&k)))
                .map(|(k, _)| k)
                .collect(),
            _ => Vec::new(),
        };
        let first_key = match &node.value {
            Value::Map(entries) if !entries.is_empty() => &entries[0].0,
            _ => node,
        };
        match kinds.as_slice() {
            // A misspelt kind was reported as an unknown field already.
            [] if node_has_reported_key(node, self.poisoned) => return None,
            [] => {
                self.hint(
                    Rule::NoKind,
                    format!("{label} has no kind"),
                    first_key,
                    "give it one of `replace`, `patch`, `edits`, `prompt`, `ask`, `run` or `check`",
                );
                return None;
            }
            [_] => {}
            [first, second, ..] => {
                let (a, b) = (first.as_str().unwrap_or(""), second.as_str().unwrap_or(""));
                self.hint(
                    Rule::TwoKinds,
                    format!("{label} has two kinds: `{a}` and `{b}`"),
                    second,
                    "a task does one thing; split it into two tasks",
                );
                return None;
            }
        }
        let kind_name = kinds[0].as_str().unwrap_or("");
        let kind_label = if kind_name == "prompt_file" {
            "prompt"
        } else {
            kind_name
        };

        // Fields that only some kinds take.
        let applies: [(&str, &[&str], &str); 15] = [
            (
                "files",
                &["replace", "prompt", "prompt_file", "ask"],
                "it works on the files it names",
            ),
            (
                "exclude",
                &["replace", "prompt", "prompt_file", "ask"],
                "it works on the files it names",
            ),
            (
                "format",
                &["edits"],
                "`format` is the format of an `edits:` file",
            ),
            (
                "per",
                &["prompt", "prompt_file", "ask"],
                "`per` splits model requests",
            ),
            (
                "on_fail",
                &["check"],
                "`on_fail` says what a failing `check` does",
            ),
            ("fix", &["check"], "`fix` repairs a failing `check`"),
            ("env", &["run", "check"], "it applies to shell steps"),
            ("cwd", &["run", "check"], "it applies to shell steps"),
            ("timeout", &["run", "check"], "it applies to shell steps"),
            ("shell", &["run", "check"], "it applies to shell steps"),
            (
                "concurrency",
                &["run", "check"],
                "it applies to shell steps",
            ),
            (
                "model",
                &["prompt", "prompt_file", "ask", "check"],
                "it applies to tasks that talk to a model",
            ),
            (
                "allow_secrets",
                &["prompt", "prompt_file", "ask", "check"],
                "it applies to tasks that send files to a model",
            ),
            (
                "allow_shrink",
                &["prompt", "prompt_file", "edits"],
                "it lets a whole-file listing (a model's reply or an edits file) remove most of a file",
            ),
            (
                "atomic",
                &["replace", "patch", "edits", "prompt", "prompt_file"],
                "it applies to tasks that edit files",
            ),
        ];
        let mut misplaced = false;
        for (field, kinds_ok, why) in applies {
            if let Some(key) = node.key(field)
                && !kinds_ok.contains(&kind_name)
            {
                misplaced = true;
                self.hint(
                    Rule::NotApplicable,
                    format!("`{field}` does not apply to a `{kind_label}` task"),
                    key,
                    why,
                );
            }
        }
        let has_files = t.files.as_ref().is_some_and(|f| !f.is_empty());
        if let Some(key) = node.key("per")
            && t.files.is_none()
            && ["prompt", "prompt_file", "ask"].contains(&kind_name)
        {
            self.hint(
                Rule::PerWithoutFiles,
                format!("`per` on {label}, which has no `files`"),
                key,
                "add `files: [\"src/**/*.rs\"]` to choose the files the requests are split over",
            );
        }

        if let (Some([]), Some(files_node)) = (t.files.as_deref(), self.field(Some(node), "files"))
        {
            self.hint(
                Rule::Empty,
                format!("`files` of {label} is empty, so it would work on no file"),
                files_node,
                "leave `files` out to work on every file git does not ignore",
            );
        }
        let include_patterns = self.globs(t.files.as_deref(), Some(node), "files");
        let exclude_patterns = self.globs(t.exclude.as_deref(), Some(node), "exclude");
        let files = (t.files.is_some() || t.exclude.is_some()).then(|| FileFilter {
            include: glob_set(&include_patterns).unwrap_or_else(|_| GlobSet::empty()),
            exclude: glob_set(&exclude_patterns).unwrap_or_else(|_| GlobSet::empty()),
            include_patterns,
            exclude_patterns,
        });

        let model_node = self.field(Some(node), "model");
        let model = self.task_model(base_model, t.model.as_ref(), model_node);
        let per = t.per.unwrap_or(if has_files {
            PerName::File
        } else {
            PerName::Repo
        });

        let kind = match kind_name {
            "replace" => {
                let r = t.replace.as_ref()?;
                let rnode = self.field(Some(node), "replace")?;
                self.replace(&t.name, r, rnode, vars)
            }
            "patch" => {
                let n = self.field(Some(node), "patch")?;
                let path = self.existing_file(t.patch.as_deref()?, n, "patch file")?;
                Some(TaskKind::Patch { path })
            }
            "edits" => {
                let n = self.field(Some(node), "edits")?;
                let path = self.existing_file(t.edits.as_deref()?, n, "edits file");
                let format = t.format.and_then(|f| EditFormat::from(f).explicit());
                path.map(|path| TaskKind::Edits { path, format })
            }
            "prompt" => {
                let n = self.field(Some(node), "prompt")?;
                let text = t.prompt.as_deref()?;
                if text.trim().is_empty() {
                    self.at(Rule::Empty, "the prompt is empty", n);
                    return None;
                }
                let prompt = self.template(text, n, Scope::TASK, vars)?;
                Some(TaskKind::Prompt { prompt, per })
            }
            "prompt_file" => {
                let n = self.field(Some(node), "prompt_file")?;
                let rel = t.prompt_file.as_deref()?;
                let path = self.existing_file(rel, n, "prompt file")?;
                let shown = self.shown_dir.join(rel);
                let prompt = self.prompt_file(&path, &shown, n, vars)?;
                Some(TaskKind::Prompt { prompt, per })
            }
            "ask" => {
                let n = self.field(Some(node), "ask")?;
                let text = t.ask.as_deref()?;
                if text.trim().is_empty() {
                    self.at(Rule::Empty, "the question is empty", n);
                    return None;
                }
                let question = self.template(text, n, Scope::TASK, vars)?;
                Some(TaskKind::Ask { question, per })
            }
            "run" => self
                .command(t, node, "run", t.run.as_deref(), vars)
                .map(TaskKind::Run),
            "check" => {
                let command = self.command(t, node, "check", t.check.as_deref(), vars);
                let on_fail = match (t.on_fail, &t.fix) {
                    (Some(f), _) => f,
                    (None, Some(_)) => OnFailName::Fix,
                    (None, None) => OnFailName::Revert,
                };
                if let (Some(fail), Some(_), Some(key)) = (t.on_fail, &t.fix, node.key("fix"))
                    && fail != OnFailName::Fix
                {
                    self.hint(
                        Rule::NotApplicable,
                        "`fix` applies only with `on_fail: fix`",
                        key,
                        "remove `fix`, or set `on_fail: fix`",
                    );
                }
                let fix_node = self.field(Some(node), "fix");
                let fix_attempts = self
                    .at_least_one(
                        t.fix.as_ref().and_then(|f| f.attempts),
                        fix_node,
                        "attempts",
                    )
                    .unwrap_or(2) as u32;
                command.map(|command| TaskKind::Check {
                    command,
                    on_fail,
                    fix_attempts,
                })
            }
            _ => None,
        }?;
        if misplaced {
            return None;
        }
        Some(Task {
            name: t.name.clone(),
            pos: Pos {
                line: first_key.span.line,
                column: first_key.span.col + 1,
            },
            files,
            model,
            allow_secrets: t.allow_secrets.unwrap_or(false),
            allow_shrink: t.allow_shrink.unwrap_or(false),
            atomic: t.atomic.unwrap_or_else(|| kind.default_atomic()),
            kind,
        })
    }

    /// Reads a prompt file and parses its template; problems point into the prompt file, shown
    /// as `shown` (the path as the pipeline names it).
    fn prompt_file(
        &mut self,
        path: &Path,
        shown: &Path,
        node: &Node,
        vars: &BTreeMap<String, String>,
    ) -> Option<Template> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                let err = Error::io(shown, &e).at(self.src.place(node.span));
                self.push(err);
                return None;
            }
        };
        let errors: Vec<TemplateError> = match Template::parse_and_check(&text, Scope::TASK, vars) {
            Ok(t) => return Some(t),
            Err(errors) => errors,
        };
        for e in errors {
            let rule = if e.syntax {
                Rule::TemplateSyntax
            } else {
                Rule::TemplateVar
            };
            let mut err = rule
                .error(e.message)
                .at(place_in_text(shown, &text, e.offset, e.width));
            if let Some(h) = e.hint {
                err = err.hint(h);
            }
            self.push(err);
        }
        None
    }

    fn replace(
        &mut self,
        task_name: &str,
        r: &ReplaceFile,
        node: &'a Node,
        vars: &BTreeMap<String, String>,
    ) -> Option<TaskKind> {
        let find_node = self.field(Some(node), "find");
        let with_node = self.field(Some(node), "with");
        let is_regex = r.regex.unwrap_or(false);
        let mut ok = true;
        // `find` is rendered now (vars, pipeline and task are known); variable values are
        // matched as written, so they are regex-escaped in a pattern.
        let find = match find_node {
            Some(n) if r.find.is_empty() => {
                self.hint(
                    Rule::Empty,
                    "`find` is empty",
                    n,
                    "give the text (or with `regex: true`, the pattern) to replace",
                );
                None
            }
            Some(n) => self.template(&r.find, n, Scope::LOAD, vars).map(|t| {
                let ctx = Context {
                    pipeline: self.pipeline_name,
                    task: Some(task_name),
                    vars: Some(vars),
                    ..Context::default()
                };
                (
                    n,
                    t.as_plain().is_some(),
                    t.render_with(&ctx, |v| {
                        if is_regex {
                            regex::escape(v)
                        } else {
                            v.to_string()
                        }
                    }),
                )
            }),
            None => None,
        };
        let regex = match find {
            Some((n, plain, find)) => {
                let pattern = if is_regex {
                    find.clone()
                } else {
                    regex::escape(&find)
                };
                match regex_syntax::Parser::new().parse(&pattern) {
                    // Offsets are only meaningful in the pattern as written.
                    Err(e) if is_regex && plain => {
                        self.regex_error(&find, &e, n);
                        None
                    }
                    _ => match RegexBuilder::new(&pattern)
                        .case_insensitive(r.case_insensitive.unwrap_or(false))
                        .build()
                    {
                        Ok(re) => Some((re, find)),
                        Err(e) => {
                            let msg = e.to_string();
                            let short = msg
                                .lines()
                                .last()
                                .unwrap_or(&msg)
                                .trim_start_matches("error: ");
                            self.hint(Rule::Regex, format!("invalid regex in `find`: {short}"), n,
                                "escape special characters with `\\`, or leave out `regex: true` to match the text as written");
                            None
                        }
                    },
                }
            }
            None => None,
        };
        let with = match with_node {
            Some(n) => self.template(&r.with, n, Scope::TASK, vars),
            None => None,
        };
        let max_count = match (r.max_count, self.field(Some(node), "max_count")) {
            (Some(0), Some(n)) => {
                self.hint(
                    Rule::Range,
                    "`max_count` must be at least 1",
                    n,
                    "leave it out to replace every match",
                );
                ok = false;
                None
            }
            (m, _) => m.map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        };
        if let (Some((re, _)), Some(_), Some(n), true) = (&regex, &with, with_node, is_regex) {
            self.group_refs(&r.with, re, n);
        }
        let ((regex, find), with) = (regex?, with?);
        ok.then(|| {
            TaskKind::Replace(Replace {
                find,
                regex,
                is_regex,
                with,
                max_count,
                case_insensitive: r.case_insensitive.unwrap_or(false),
            })
        })
    }

    /// In a regex replacement `$name` takes the longest run of letters, digits and `_`, so
    /// `$1_mod` asks for a group named `1_mod` and silently becomes empty: every `$name` must
    /// name a group of `find` (`${1}_mod` separates the number).
    fn group_refs(&mut self, with: &str, re: &regex::Regex, node: &Node) {
        let chars: Vec<char> = with.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' {
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            let (name, width) = match chars.get(i) {
                Some('$') => {
                    i += 1;
                    continue;
                }
                Some('{') => {
                    let Some(close) = chars[i..].iter().position(|c| *c == '}') else {
                        continue;
                    };
                    let name: String = chars[i + 1..i + close].iter().collect();
                    i += close + 1;
                    (name, i - start)
                }
                _ => {
                    let len = chars[i..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .count();
                    let name: String = chars[i..i + len].iter().collect();
                    i += len;
                    (name, i - start)
                }
            };
            if name.is_empty() {
                continue;
            }
            let known = match name.parse::<usize>() {
                Ok(n) => n < re.captures_len(),
                Err(_) => re.capture_names().flatten().any(|g| g == name),
            };
            if known {
                continue;
            }
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            let hint = if !digits.is_empty() && digits.len() < name.len() {
                format!(
                    "`${name}` names a group `{name}`; write `${{{digits}}}{}` for group {digits} followed by `{}`",
                    &name[digits.len()..],
                    &name[digits.len()..]
                )
            } else {
                format!(
                    "`find` has {} group(s){}; write `$$` for a literal `$`",
                    re.captures_len() - 1,
                    match re.capture_names().flatten().collect::<Vec<_>>() {
                        names if names.is_empty() => String::new(),
                        names => format!(" (named: {})", names.join(", ")),
                    }
                )
            };
            let err = self
                .src
                .error_in(
                    Rule::GroupRef,
                    format!("`${name}` in `with` names no group of `find`, so it would be empty"),
                    node,
                    start,
                    width,
                )
                .hint(hint);
            self.push(err);
        }
    }

    fn regex_error(&mut self, pattern: &str, e: &regex_syntax::Error, node: &Node) {
        let (kind, span) = match e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), *e.span()),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), *e.span()),
            other => {
                let msg = other.to_string();
                self.at(Rule::Regex, format!("invalid regex in `find`: {msg}"), node);
                return;
            }
        };
        let char_at = |byte: usize| pattern.get(..byte).map_or(0, |p| p.chars().count());
        let start = char_at(span.start.offset);
        let width = char_at(span.end.offset).saturating_sub(start).max(1);
        let err = self
            .src
            .error_in(Rule::Regex, format!("invalid regex in `find`: {kind}"), node, start, width)
            .hint("escape special characters with `\\`, or leave out `regex: true` to match the text as written");
        self.push(err);
    }

    fn command(
        &mut self,
        t: &TaskFile,
        node: &'a Node,
        key: &str,
        text: Option<&str>,
        vars: &BTreeMap<String, String>,
    ) -> Option<Command> {
        let n = self.field(Some(node), key)?;
        let text = text?;
        let command = if text.trim().is_empty() {
            self.hint(
                Rule::Empty,
                format!("the `{key}` command is empty"),
                n,
                "give the shell command to run",
            );
            None
        } else {
            self.template(text, n, Scope::TASK, vars)
        };
        let mut ok = true;
        let cwd = match (&t.cwd, self.field(Some(node), "cwd")) {
            (Some(cwd), Some(cn)) => {
                let p = PathBuf::from(cwd);
                let escapes = p.is_absolute()
                    || p.components()
                        .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)));
                if escapes {
                    self.hint(
                        Rule::PathEscapes,
                        format!("`cwd: {cwd}` leaves the repository"),
                        cn,
                        "`cwd` is relative to the repository root and stays inside it",
                    );
                    ok = false;
                }
                p
            }
            _ => PathBuf::new(),
        };
        let timeout_node_ok = self.field(Some(node), "timeout").is_some();
        let timeout = self.duration(t.timeout.as_ref(), Some(node), "timeout");
        if timeout_node_ok && t.timeout.is_some() && timeout.is_none() {
            ok = false;
        }
        let shell = t.shell.clone().unwrap_or_else(|| DEFAULT_SHELL.into());
        if let Some(sn) = self.field(Some(node), "shell")
            && shell.trim().is_empty()
        {
            self.at(Rule::Empty, "`shell` is empty", sn);
            ok = false;
        }
        let concurrency = self.at_least_one(t.concurrency, Some(node), "concurrency");
        if t.concurrency == Some(0) {
            ok = false;
        }
        let command = command?;
        ok.then(|| Command {
            command,
            shell,
            env: t.env.clone().unwrap_or_default(),
            cwd,
            timeout: timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            concurrency,
        })
    }
}
