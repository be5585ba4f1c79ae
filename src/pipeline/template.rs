//! Templates in pipeline strings: `{{ pipeline }}`, `{{ task }}`, `{{ run_id }}`,
//! `{{ repo.name }}`, `{{ vars.NAME }}`, and `{{ '{{' }}` for literal text; `pr.body` also has
//! a repository's results (`{{ diffstat }}`, `{{ files }}`, `{{ tasks }}`, `{{ answers }}`,
//! `{{ checks }}`). Parsed once at
//! validation (so an unknown variable is reported at its column), rendered many times later.

use std::collections::BTreeMap;
use std::fmt;

/// A variable a template may reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Var {
    /// `{{ pipeline }}`: the pipeline's name.
    Pipeline,
    /// `{{ task }}`: the current task's name.
    Task,
    /// `{{ run_id }}`: the run's id.
    RunId,
    /// `{{ repo.name }}`: the repository's name (its directory or URL basename).
    RepoName,
    /// `{{ vars.NAME }}`: a pipeline variable.
    Var(String),
    /// One of a repository's results, known once it ran (`pr.body` only).
    Result(ResultVar),
}

/// A repository's results a pull request body can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultVar {
    /// `{{ diffstat }}`: like `git diff --stat`, from the base to the run branch.
    Diffstat,
    /// `{{ files }}`: the changed paths, one a line as a Markdown list.
    Files,
    /// `{{ tasks }}`: each task and what it did.
    Tasks,
    /// `{{ answers }}`: the `ask` tasks' answers.
    Answers,
    /// `{{ checks }}`: the `check` tasks and how they ended.
    Checks,
}

impl ResultVar {
    /// Every result variable, in the order the default body shows them.
    pub const ALL: [ResultVar; 5] = [
        ResultVar::Tasks,
        ResultVar::Checks,
        ResultVar::Answers,
        ResultVar::Files,
        ResultVar::Diffstat,
    ];

    /// The variable a template names `name`.
    pub fn from_name(name: &str) -> Option<ResultVar> {
        ResultVar::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its name in a template.
    pub fn name(self) -> &'static str {
        match self {
            ResultVar::Diffstat => "diffstat",
            ResultVar::Files => "files",
            ResultVar::Tasks => "tasks",
            ResultVar::Answers => "answers",
            ResultVar::Checks => "checks",
        }
    }
}

/// A repository's results as text, for the result variables of a pull request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    /// `{{ diffstat }}`.
    pub diffstat: String,
    /// `{{ files }}`.
    pub files: String,
    /// `{{ tasks }}`.
    pub tasks: String,
    /// `{{ answers }}`.
    pub answers: String,
    /// `{{ checks }}`.
    pub checks: String,
}

impl Results {
    /// The text of one variable.
    pub fn get(&self, var: ResultVar) -> &str {
        match var {
            ResultVar::Diffstat => &self.diffstat,
            ResultVar::Files => &self.files,
            ResultVar::Tasks => &self.tasks,
            ResultVar::Answers => &self.answers,
            ResultVar::Checks => &self.checks,
        }
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Pipeline => f.write_str("pipeline"),
            Var::Task => f.write_str("task"),
            Var::RunId => f.write_str("run_id"),
            Var::RepoName => f.write_str("repo.name"),
            Var::Var(name) => write!(f, "vars.{name}"),
            Var::Result(r) => f.write_str(r.name()),
        }
    }
}

/// Which variables a field may use, beyond `vars.*` (always allowed when defined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// `{{ task }}` is available (per-task strings: commit messages, prompts, commands).
    pub task: bool,
    /// `{{ repo.name }}` is available.
    pub repo: bool,
    /// `{{ run_id }}` is available (text rendered during a run, not at validation).
    pub run: bool,
    /// A repository's results (`{{ diffstat }}`…) are available: text rendered after the run.
    pub results: bool,
}

impl Scope {
    /// Everything: strings rendered per task and per repository.
    pub const TASK: Scope = Scope {
        task: true,
        repo: true,
        run: true,
        results: false,
    };
    /// Strings rendered per repository but not per task (branch, pull request).
    pub const REPO: Scope = Scope {
        task: false,
        repo: true,
        run: true,
        results: false,
    };
    /// A pull request's body: rendered per repository after its run, with its results.
    pub const PR_BODY: Scope = Scope {
        task: false,
        repo: true,
        run: true,
        results: true,
    };
    /// Text rendered once when the pipeline is loaded (`find:`): only `pipeline`, `task` and
    /// `vars.*`.
    pub const LOAD: Scope = Scope {
        task: true,
        repo: false,
        run: false,
        results: false,
    };
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text copied as is.
    Text(String),
    /// A variable, with the character offset and width of its `{{ … }}` in the template text.
    Var {
        /// The variable.
        var: Var,
        /// Offset of `{{` in the template text, in characters.
        offset: usize,
        /// Width of the whole `{{ … }}`, in characters.
        width: usize,
    },
}

/// A problem in a template, at a character offset of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Character offset in the template text.
    pub offset: usize,
    /// Width in characters.
    pub width: usize,
    /// Whether this is a syntax error (otherwise: an unknown or unavailable variable).
    pub syntax: bool,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// The text as written.
    pub source: String,
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
}

/// The values a template is rendered with.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The task's name, when rendering per task.
    pub task: Option<&'a str>,
    /// The run id.
    pub run_id: &'a str,
    /// The repository's name, when rendering per repository.
    pub repo_name: Option<&'a str>,
    /// The pipeline's variables (after `--var` overrides).
    pub vars: Option<&'a BTreeMap<String, String>>,
    /// The repository's results, when rendering a pull request body.
    pub results: Option<&'a Results>,
}

impl Template {
    /// A template holding plain text only (for pipelines built in code).
    pub fn text(text: impl Into<String>) -> Template {
        let text = text.into();
        Template {
            pieces: vec![Piece::Text(text.clone())],
            source: text,
        }
    }

    /// Parses `text`; every problem is returned, each at its offset.
    pub fn parse(text: &str) -> Result<Template, Vec<TemplateError>> {
        let (template, errors) = Template::parse_partial(text);
        if errors.is_empty() {
            Ok(template)
        } else {
            Err(errors)
        }
    }

    /// Parses `text`, returning the template of the well-formed parts and every problem, then
    /// runs [`Template::check`] on those parts: all problems of one text at once, in order.
    pub fn parse_and_check(
        text: &str,
        scope: Scope,
        vars: &BTreeMap<String, String>,
    ) -> Result<Template, Vec<TemplateError>> {
        let (template, mut errors) = Template::parse_partial(text);
        errors.extend(template.check(scope, vars));
        if errors.is_empty() {
            Ok(template)
        } else {
            errors.sort_by_key(|e| e.offset);
            Err(errors)
        }
    }

    fn parse_partial(text: &str) -> (Template, Vec<TemplateError>) {
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut errors = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '{' && chars.get(i + 1) == Some(&'{') {
                let Some(close) = find_close(&chars, i + 2) else {
                    errors.push(TemplateError {
                        message: "`{{` is never closed".into(),
                        hint: Some(
                            "close it with `}}`, or write `{{ '{{' }}` for literal braces".into(),
                        ),
                        offset: i,
                        width: 2,
                        syntax: true,
                    });
                    break;
                };
                let inner: String = chars[i + 2..close].iter().collect();
                let width = close + 2 - i;
                match expression(inner.trim()) {
                    Ok(Expr::Literal(s)) => literal.push_str(&s),
                    Ok(Expr::Var(var)) => {
                        if !literal.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut literal)));
                        }
                        pieces.push(Piece::Var {
                            var,
                            offset: i,
                            width,
                        });
                    }
                    Err((message, hint, syntax)) => errors.push(TemplateError {
                        message,
                        hint,
                        offset: i,
                        width,
                        syntax,
                    }),
                }
                i = close + 2;
            } else {
                literal.push(chars[i]);
                i += 1;
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        let template = Template {
            source: text.to_string(),
            pieces,
        };
        (template, errors)
    }

    /// Checks that every variable is available in `scope` and every `vars.NAME` is defined.
    pub fn check(&self, scope: Scope, vars: &BTreeMap<String, String>) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for piece in &self.pieces {
            let Piece::Var { var, offset, width } = piece else {
                continue;
            };
            let problem = match var {
                Var::Task if !scope.task => Some((
                    "`{{ task }}` is not available here: this text is not rendered per task"
                        .to_string(),
                    Some("use `{{ pipeline }}`, `{{ run_id }}`, `{{ repo.name }}` or `{{ vars.NAME }}`".to_string()),
                )),
                Var::RepoName if !scope.repo => Some((
                    "`{{ repo.name }}` is not available here".to_string(),
                    Some("this text is rendered once for all repositories".to_string()),
                )),
                Var::Result(r) if !scope.results => Some((
                    format!(
                        "`{{{{ {} }}}}` is only available in `pr.body`: it is a repository's \
                         result, known after its run",
                        r.name()
                    ),
                    Some("use it in `pr.body`; here use `{{ pipeline }}`, `{{ repo.name }}` or `{{ vars.NAME }}`".to_string()),
                )),
                Var::RunId if !scope.run => Some((
                    "`{{ run_id }}` is not available here".to_string(),
                    Some("this text is rendered when the pipeline is loaded, before a run".to_string()),
                )),
                Var::Var(name) if !vars.contains_key(name) => {
                    let hint = match crate::error::closest(name, vars.keys().map(String::as_str))
                    {
                        Some(close) => format!("did you mean `vars.{close}`?"),
                        None if vars.is_empty() => format!(
                            "declare it under `vars:` (`--var {name}=VALUE` then overrides it)"
                        ),
                        None => format!(
                            "defined variables: {}; declare `{name}` under `vars:` to use it",
                            vars.keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    Some((format!("unknown variable `vars.{name}`"), Some(hint)))
                }
                _ => None,
            };
            if let Some((message, hint)) = problem {
                errors.push(TemplateError {
                    message,
                    hint,
                    offset: *offset,
                    width: *width,
                    syntax: false,
                });
            }
        }
        errors
    }

    /// Renders the template; a value the context lacks renders as empty text.
    pub fn render(&self, ctx: &Context<'_>) -> String {
        self.render_with(ctx, |v| v.to_string())
    }

    /// Renders the template passing each variable's value through `escape` (for example
    /// `regex::escape`, so a value is matched as written).
    pub fn render_with(&self, ctx: &Context<'_>, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var { var, .. } => out.push_str(&escape(match var {
                    Var::Pipeline => ctx.pipeline,
                    Var::Task => ctx.task.unwrap_or(""),
                    Var::RunId => ctx.run_id,
                    Var::RepoName => ctx.repo_name.unwrap_or(""),
                    Var::Var(name) => ctx
                        .vars
                        .and_then(|v| v.get(name))
                        .map_or("", String::as_str),
                    Var::Result(r) => ctx.results.map_or("", |res| res.get(*r)),
                })),
            }
        }
        out
    }

    /// The variables the template uses, in order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { var, .. } => Some(var),
            Piece::Text(_) => None,
        })
    }

    /// The text with no variables in it, when it has none.
    pub fn as_plain(&self) -> Option<String> {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => Some(t.as_str()),
                Piece::Var { .. } => None,
            })
            .collect()
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

enum Expr {
    Literal(String),
    Var(Var),
}

/// Finds the `}}` closing an expression that starts at `from`, skipping quoted literals.
fn find_close(chars: &[char], from: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '}' && chars.get(i + 1) == Some(&'}') => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

// `pr.body`'s result variables (`diffstat`, `files`, ...) are left out of the hints: elsewhere
// they are refused, and `{{ file }}` in a prompt is no typo of `{{ files }}`.
const KNOWN: &str = "`pipeline`, `task`, `run_id`, `repo.name`, `vars.NAME`";

/// A problem in one `{{ … }}`: message, hint, and whether it is a syntax error (rather than an
/// unknown name).
type ExprError = (String, Option<String>, bool);

fn expression(inner: &str) -> Result<Expr, ExprError> {
    if inner.len() >= 2 {
        let (first, last) = (inner.as_bytes()[0], inner.as_bytes()[inner.len() - 1]);
        if (first == b'\'' || first == b'"') && first == last {
            return Ok(Expr::Literal(inner[1..inner.len() - 1].to_string()));
        }
    }
    if inner.is_empty() {
        return Err((
            "empty `{{ }}`".into(),
            Some(format!("name a variable: {KNOWN}")),
            true,
        ));
    }
    let parts: Vec<&str> = inner.split('.').collect();
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !parts.iter().all(|p| ident(p)) {
        return Err((
            format!("`{inner}` is not a variable name"),
            Some(format!(
                "templates name one variable: {KNOWN}; for literal braces write `{{{{ '{{{{' }}}}`"
            )),
            true,
        ));
    }
    match parts.as_slice() {
        ["pipeline"] => Ok(Expr::Var(Var::Pipeline)),
        ["task"] => Ok(Expr::Var(Var::Task)),
        ["run_id"] => Ok(Expr::Var(Var::RunId)),
        ["repo", "name"] => Ok(Expr::Var(Var::RepoName)),
        ["vars", name] => Ok(Expr::Var(Var::Var((*name).to_string()))),
        [one] if let Some(r) = ResultVar::from_name(one) => Ok(Expr::Var(Var::Result(r))),
        _ => {
            let names = ["pipeline", "task", "run_id", "repo.name"];
            let hint = match crate::error::closest(inner, names) {
                Some(close) => format!("did you mean `{close}`?"),
                None if parts.len() == 1 => {
                    format!("known variables: {KNOWN}; a pipeline variable is `vars.{inner}`")
                }
                None => format!("known variables: {KNOWN}"),
            };
            Err((
                format!("unknown template variable `{inner}`"),
                Some(hint),
                false,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn renders_every_variable() {
        let t =
            Template::parse("{{pipeline}}/{{ task }}-{{ run_id }} {{ repo.name }} {{ vars.v }}")
                .unwrap();
        let v = vars(&[("v", "1.2")]);
        let ctx = Context {
            pipeline: "p",
            task: Some("t"),
            run_id: "r1",
            repo_name: Some("billing"),
            vars: Some(&v),
            results: None,
        };
        assert_eq!(t.render(&ctx), "p/t-r1 billing 1.2");
        assert!(t.check(Scope::TASK, &v).is_empty());
    }

    #[test]
    fn literal_braces_and_plain_text() {
        let t = Template::parse("a {{ '{{' }} b }} c").unwrap();
        assert_eq!(t.as_plain().as_deref(), Some("a {{ b }} c"));
        assert_eq!(Template::parse("").unwrap().render(&Context::default()), "");
        assert_eq!(Template::text("x{{y").render(&Context::default()), "x{{y");
    }

    #[test]
    fn result_variables_render_in_a_pull_request_body_only() {
        let t =
            Template::parse("{{ tasks }}|{{ checks }}|{{ answers }}|{{ files }}|{{ diffstat }}")
                .unwrap();
        let none = vars(&[]);
        assert!(t.check(Scope::PR_BODY, &none).is_empty());
        let errors = t.check(Scope::REPO, &none);
        assert_eq!(errors.len(), 5);
        assert_eq!(
            errors[0].message,
            "`{{ tasks }}` is only available in `pr.body`: it is a repository's result, known \
             after its run"
        );
        let results = Results {
            diffstat: "d".into(),
            files: "f".into(),
            tasks: "t".into(),
            answers: "a".into(),
            checks: "c".into(),
        };
        let ctx = Context {
            results: Some(&results),
            ..Context::default()
        };
        assert_eq!(t.render(&ctx), "t|c|a|f|d");
        assert_eq!(t.render(&Context::default()), "||||");
    }

    #[test]
    fn unknown_variables_are_placed() {
        let e = Template::parse("ab {{ pipelin }} {{ foo }}").unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].offset, e[0].width), (3, 13));
        assert_eq!(e[0].hint.as_deref(), Some("did you mean `pipeline`?"));
        assert_eq!(e[1].offset, 17);
        let e = Template::parse("x {{ vars.crat }}")
            .unwrap()
            .check(Scope::TASK, &vars(&[("crate", "tracing")]));
        assert_eq!(e[0].message, "unknown variable `vars.crat`");
        assert_eq!(e[0].hint.as_deref(), Some("did you mean `vars.crate`?"));
        let e = Template::parse("{{ task }}")
            .unwrap()
            .check(Scope::REPO, &vars(&[]));
        assert_eq!(e.len(), 1);
        let e = Template::parse_and_check(
            "{{ vars.a }} {{ nope }} {{ vars.b }}",
            Scope::TASK,
            &vars(&[("a", "1")]),
        )
        .unwrap_err();
        let offsets: Vec<usize> = e.iter().map(|e| e.offset).collect();
        assert_eq!(
            offsets,
            [13, 24],
            "both the unknown name and the undefined var"
        );
    }

    #[test]
    fn unclosed_and_malformed() {
        let e = Template::parse("é {{ task").unwrap_err();
        assert_eq!((e[0].offset, e[0].width), (2, 2));
        let e = Template::parse("{{ a b }}{{}}").unwrap_err();
        assert_eq!(e.len(), 2);
    }
}
