//! The fake GitHub's GraphQL endpoint (`POST /graphql`): the mutations codefleet sends. Each
//! request's document is read (the mutation's name, the `$input` variable's declared type) and
//! its `variables.input` is checked against GitHub's published GraphQL schema (npm package
//! `@octokit/graphql-schema`, `schema.graphql`, installed by `.ci/run` into
//! `target/github-graphql/`): the input object's fields, their types, non-null requirements,
//! enum values. Then the mutation is carried out for real: `createCommitOnBranch` makes the
//! commit in the repository's bare git repository with git plumbing (committer `GitHub
//! <noreply@github.com>`, as GitHub's signed web commits) and moves the branch only if it still
//! points at `expectedHeadOid`; `enablePullRequestAutoMerge` turns auto-merge on in the state.
//! Answers and errors have GitHub's shapes (`STALE_DATA`, validation `problems`).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::github::{FakeGitHub, State};

/// What the GraphQL endpoint knows beyond the REST state (repositories and their bare git
/// directories, pull requests and their `node_id`s are the REST state's).
#[derive(Default)]
pub struct GraphqlState {
    /// Repositories (`owner/name`) that do not allow auto-merge.
    pub auto_merge_disallowed: Vec<String>,
    /// Pull requests (`owner/name#number`) with auto-merge on, and its merge method.
    pub auto_merge: BTreeMap<String, String>,
    /// Every mutation received and carried out or refused: its name and input.
    pub mutations: Vec<(String, Value)>,
}

impl FakeGitHub {
    /// The GraphQL mutations received: name and input.
    pub fn mutations(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().graphql.mutations.clone()
    }

    /// The merge method auto-merge was enabled with on a pull request, if it was.
    pub fn auto_merge(&self, repo: &str, number: u64) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.graphql
            .auto_merge
            .get(&format!("{repo}#{number}"))
            .cloned()
    }
}

/// Answers one GraphQL request (`{"query": …, "variables": {"input": …}}`).
pub fn handle(st: &mut State, request: &Value, _base: &str) -> (u16, String, Value) {
    let document = request["query"].as_str().unwrap_or_default();
    let input = &request["variables"]["input"];
    let (name, answer) = match Mutation::read(document) {
        Ok(m) => {
            let answer = match schema().validate(&m, input) {
                Err(e) => e,
                Ok(()) => match m.field.as_str() {
                    "createCommitOnBranch" => create_commit(st, input),
                    _ => enable_auto_merge(st, input),
                },
            };
            (m.field, answer)
        }
        Err(e) => (String::new(), e),
    };
    st.graphql.mutations.push((name, input.clone()));
    (200, String::new(), answer)
}

fn error(kind: Option<&str>, message: String) -> Value {
    let mut e = json!({ "message": message, "locations": [{"line": 1, "column": 1}] });
    if let Some(k) = kind {
        e["type"] = json!(k);
    }
    json!({ "errors": [e] })
}

/// The mutation a document asks for and the type it declares `$input` as.
pub struct Mutation {
    pub field: String,
    pub declared: String,
}

impl Mutation {
    /// Reads `mutation($input: T!) { field(input: $input) { … } }`.
    pub fn read(document: &str) -> Result<Mutation, Value> {
        let doc = document.trim_start();
        let Some(rest) = doc.strip_prefix("mutation") else {
            return Err(error(None, "the fake serves mutations only".into()));
        };
        let decl = rest
            .split_once("$input:")
            .map(|(_, d)| d.trim_start())
            .unwrap_or_default();
        let declared: String = decl
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '!' || *c == '_')
            .collect();
        let body = rest
            .split_once('{')
            .map(|(_, b)| b.trim_start())
            .unwrap_or_default();
        let field: String = body
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if declared.is_empty()
            || !body[field.len()..]
                .trim_start()
                .starts_with("(input: $input)")
        {
            return Err(error(
                None,
                format!("the document must pass `$input` to the mutation: {document}"),
            ));
        }
        if !matches!(
            field.as_str(),
            "createCommitOnBranch" | "enablePullRequestAutoMerge"
        ) {
            return Err(error(
                None,
                format!("Field '{field}' doesn't exist on type 'Mutation'"),
            ));
        }
        Ok(Mutation { field, declared })
    }

    /// The input type GitHub's schema gives the mutation's `input` argument.
    fn input_type(&self) -> String {
        let mut c = self.field.chars();
        let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or(' ');
        format!("{first}{}Input", c.as_str())
    }
}

/// A GraphQL type reference (`[FileAddition!]`, `String!`).
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub fn parse(text: &str) -> TypeRef {
        let t = text.trim();
        if let Some(inner) = t.strip_suffix('!') {
            return TypeRef::NonNull(Box::new(TypeRef::parse(inner)));
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            return TypeRef::List(Box::new(TypeRef::parse(inner)));
        }
        TypeRef::Named(t.to_string())
    }
}

/// The parts of GitHub's schema a mutation's input is checked against.
#[derive(Debug, Default)]
pub struct Schema {
    /// `input X { field: Type }` blocks.
    pub inputs: HashMap<String, Vec<(String, TypeRef)>>,
    /// `enum X { A B }` blocks.
    pub enums: HashMap<String, Vec<String>>,
    /// `scalar X` names.
    pub scalars: HashSet<String>,
}

/// GitHub's schema, read once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/github-graphql/schema.graphql");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "GitHub's GraphQL schema is missing at {} ({e}): run .ci/run, or `npm pack \
                 @octokit/graphql-schema@15.26.1` and copy its package/schema.graphql there",
                path.display()
            )
        });
        Schema::parse(&text)
    })
}

impl Schema {
    /// Reads the `input`, `enum` and `scalar` definitions of a schema in SDL, descriptions
    /// (`"""…"""` blocks and `"…"` lines) skipped.
    pub fn parse(text: &str) -> Schema {
        let mut schema = Schema::default();
        let mut in_description = false;
        let mut block: Option<(bool, String)> = None; // (is input, name)
        for line in text.lines() {
            let t = line.trim();
            let quotes = t.matches("\"\"\"").count();
            if in_description {
                in_description = quotes % 2 == 0;
                continue;
            }
            if quotes > 0 {
                in_description = quotes % 2 == 1;
                continue;
            }
            if t.is_empty() || t.starts_with('"') || t.starts_with('#') {
                continue;
            }
            if t == "}" {
                block = None;
                continue;
            }
            let words: Vec<&str> = t.split_whitespace().collect();
            match (&block, words.as_slice()) {
                (None, ["input", name, ..]) => {
                    schema.inputs.insert(name.to_string(), Vec::new());
                    block = Some((true, name.to_string()));
                }
                (None, ["enum", name, ..]) => {
                    schema.enums.insert(name.to_string(), Vec::new());
                    block = Some((false, name.to_string()));
                }
                (None, ["scalar", name, ..]) => {
                    schema.scalars.insert(name.to_string());
                }
                (None, [_, _, .., "{"]) => block = Some((false, String::new())),
                (Some((true, name)), _) => {
                    if let Some((field, ty)) = t.split_once(':') {
                        let ty = ty.split(['=', '@']).next().unwrap_or_default();
                        if let Some(fields) = schema.inputs.get_mut(name) {
                            fields.push((field.trim().to_string(), TypeRef::parse(ty)));
                        }
                    }
                }
                (Some((false, name)), [value, ..]) => {
                    if let Some(values) = schema.enums.get_mut(name) {
                        values.push(value.to_string());
                    }
                }
                _ => {}
            }
        }
        schema
    }

    /// Checks a mutation's declared variable type and its input; the GraphQL error GitHub
    /// answers when they do not fit.
    pub fn validate(&self, m: &Mutation, input: &Value) -> Result<(), Value> {
        let expected = m.input_type();
        if !self.inputs.contains_key(&expected) {
            return Err(error(None, format!("unknown input type {expected}")));
        }
        if m.declared != format!("{expected}!") {
            return Err(error(
                None,
                format!(
                    "Type mismatch on variable $input and argument input ({} / {expected}!)",
                    m.declared
                ),
            ));
        }
        let mut problems = Vec::new();
        let ty = TypeRef::NonNull(Box::new(TypeRef::Named(expected.clone())));
        self.check(&ty, Some(input), &mut Vec::new(), &mut problems);
        if problems.is_empty() {
            return Ok(());
        }
        let paths: Vec<String> = problems.iter().map(|(p, _)| p.join(".")).collect();
        let problems: Vec<Value> = problems
            .into_iter()
            .map(|(path, explanation)| json!({ "path": path, "explanation": explanation }))
            .collect();
        Err(json!({ "errors": [{
            "extensions": { "value": input, "problems": problems },
            "locations": [{"line": 1, "column": 10}],
            "message": format!(
                "Variable $input of type {expected}! was provided invalid value for {}",
                paths.join(", ")
            ),
        }]}))
    }

    /// Every problem of `value` as a `ty`, with its path.
    pub fn check(
        &self,
        ty: &TypeRef,
        value: Option<&Value>,
        path: &mut Vec<String>,
        problems: &mut Vec<(Vec<String>, String)>,
    ) {
        let value = value.filter(|v| !v.is_null());
        let named = match (ty, value) {
            (TypeRef::NonNull(_), None) => {
                problems.push((path.clone(), "Expected value to not be null".into()));
                return;
            }
            (_, None) => return,
            (TypeRef::NonNull(inner), v) => return self.check(inner, v, path, problems),
            (TypeRef::List(inner), Some(Value::Array(items))) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    self.check(inner, Some(item), path, problems);
                    path.pop();
                }
                return;
            }
            // A single value stands for a list of one.
            (TypeRef::List(inner), v) => return self.check(inner, v, path, problems),
            (TypeRef::Named(n), _) => n,
        };
        let value = value.unwrap_or(&Value::Null);
        if let Some(fields) = self.inputs.get(named) {
            let Some(object) = value.as_object() else {
                problems.push((
                    path.clone(),
                    format!("Expected {value} to be a key-value object"),
                ));
                return;
            };
            for key in object.keys() {
                if !fields.iter().any(|(f, _)| f == key) {
                    path.push(key.clone());
                    problems.push((path.clone(), format!("Field is not defined on {named}")));
                    path.pop();
                }
            }
            for (field, ty) in fields {
                path.push(field.clone());
                self.check(ty, object.get(field), path, problems);
                path.pop();
            }
        } else if let Some(values) = self.enums.get(named) {
            if !value
                .as_str()
                .is_some_and(|v| values.iter().any(|e| e == v))
            {
                problems.push((
                    path.clone(),
                    format!("Expected {value} to be one of: {}", values.join(", ")),
                ));
            }
        } else if !scalar_fits(named, value) {
            problems.push((
                path.clone(),
                format!("Could not coerce value {value} to {named}"),
            ));
        }
    }
}

fn scalar_fits(name: &str, value: &Value) -> bool {
    match name {
        "Int" => value.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        "Float" => value.is_number(),
        "Boolean" => value.is_boolean(),
        "ID" => value.is_string() || value.is_i64(),
        "GitObjectID" => value
            .as_str()
            .is_some_and(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())),
        "Base64String" => value.as_str().is_some_and(|s| decode_base64(s).is_some()),
        _ => value.is_string(),
    }
}

/// Standard base64 with padding; `None` when malformed.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for c in &chunk[..4 - pad] {
            n = (n << 6) | value(*c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

/// Runs git in a bare repository with no user or system configuration.
fn git(dir: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    if let Some(mut input) = child.stdin.take() {
        std::io::Write::write_all(&mut input, stdin).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `createCommitOnBranch`: a commit on the branch's head with the file changes, if the head is
/// still `expectedHeadOid`.
fn create_commit(st: &mut State, input: &Value) -> Value {
    let nwo = input["branch"]["repositoryNameWithOwner"]
        .as_str()
        .unwrap_or_default();
    let branch = input["branch"]["branchName"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("refs/heads/");
    let bare = st
        .repos
        .iter()
        .find(|r| r.full_name() == nwo)
        .and_then(|r| r.git_dir.clone());
    let Some(bare) = bare else {
        return error(
            Some("NOT_FOUND"),
            format!("Could not resolve to a Repository with the name '{nwo}'."),
        );
    };
    let expected = input["expectedHeadOid"].as_str().unwrap_or_default();
    let refname = format!("refs/heads/{branch}");
    let head = git(&bare, &["rev-parse", "--verify", "-q", &refname], b"", &[]).ok();
    let Some(head) = head.filter(|h| !h.is_empty()) else {
        return error(
            Some("NOT_FOUND"),
            format!("Could not resolve to a Ref with the name '{refname}'."),
        );
    };
    if head != expected {
        return stale(expected);
    }
    match write_commit(&bare, &head, input, &st.login) {
        Ok(oid) => {
            if git(&bare, &["update-ref", &refname, &oid, &head], b"", &[]).is_err() {
                return stale(expected);
            }
            json!({ "data": { "createCommitOnBranch": { "commit": {
                "oid": oid,
                "url": format!("https://github.example/{nwo}/commit/{oid}"),
            }}}})
        }
        Err(e) => error(Some("UNPROCESSABLE"), e),
    }
}

fn stale(expected: &str) -> Value {
    error(
        Some("STALE_DATA"),
        format!("Expected branch to point to \"{expected}\" but it did not. Pull and try again."),
    )
}

/// Builds the commit's tree in a temporary index from `head`'s, and the commit; its id.
fn write_commit(bare: &Path, head: &str, input: &Value, viewer: &str) -> Result<String, String> {
    static INDEX: AtomicUsize = AtomicUsize::new(0);
    let index = std::env::temp_dir().join(format!(
        "fake-github-index-{}-{}",
        std::process::id(),
        INDEX.fetch_add(1, Ordering::SeqCst)
    ));
    let index_s = index.to_string_lossy().into_owned();
    let env = [("GIT_INDEX_FILE", index_s.as_str())];
    let result = (|| {
        git(bare, &["read-tree", head], b"", &env)?;
        let changes = &input["fileChanges"];
        for d in changes["deletions"].as_array().into_iter().flatten() {
            let path = d["path"].as_str().unwrap_or_default();
            let at = format!("{head}:{path}");
            git(bare, &["cat-file", "-e", &at], b"", &[]).map_err(|_| {
                format!("A path was requested for deletion which does not exist as of commit oid `{head}`")
            })?;
            // Mode 0 removes the entry (`--force-remove` wants a work tree).
            let line = format!("0 {}\t{path}\n", "0".repeat(40));
            git(
                bare,
                &["update-index", "--index-info"],
                line.as_bytes(),
                &env,
            )?;
        }
        for a in changes["additions"].as_array().into_iter().flatten() {
            let path = a["path"].as_str().unwrap_or_default();
            let bytes = decode_base64(a["contents"].as_str().unwrap_or_default())
                .ok_or("contents are not base64")?;
            let blob = git(bare, &["hash-object", "-w", "--stdin"], &bytes, &env)?;
            let info = format!("100644,{blob},{path}");
            git(
                bare,
                &["update-index", "--add", "--cacheinfo", &info],
                b"",
                &env,
            )?;
        }
        let tree = git(bare, &["write-tree"], b"", &env)?;
        let headline = input["message"]["headline"].as_str().unwrap_or_default();
        let mut message = headline.to_string();
        if let Some(body) = input["message"]["body"].as_str().filter(|b| !b.is_empty()) {
            message = format!("{message}\n\n{body}");
        }
        let email = format!("{viewer}@users.noreply.github.com");
        let who = [
            ("GIT_AUTHOR_NAME", viewer),
            ("GIT_AUTHOR_EMAIL", email.as_str()),
            ("GIT_COMMITTER_NAME", "GitHub"),
            ("GIT_COMMITTER_EMAIL", "noreply@github.com"),
        ];
        git(
            bare,
            &["commit-tree", &tree, "-p", head],
            message.as_bytes(),
            &who,
        )
    })();
    let _ = std::fs::remove_file(&index);
    result
}

/// `enablePullRequestAutoMerge`: auto-merge on for an open pull request, by its `node_id`.
fn enable_auto_merge(st: &mut State, input: &Value) -> Value {
    let id = input["pullRequestId"].as_str().unwrap_or_default();
    let Some(pr) = st.prs.iter().find(|p| p.node_id == id) else {
        return error(
            Some("NOT_FOUND"),
            format!("Could not resolve to a node with the global id of '{id}'"),
        );
    };
    let (repo, number) = (pr.repo.clone(), pr.number);
    if st.graphql.auto_merge_disallowed.contains(&repo) {
        return error(
            Some("UNPROCESSABLE"),
            "Pull request Auto merge is not allowed for this repository".into(),
        );
    }
    if pr.state != "open" {
        return error(
            Some("UNPROCESSABLE"),
            "Pull request is in the wrong state to enable auto-merge".into(),
        );
    }
    let method = input["mergeMethod"].as_str().unwrap_or("MERGE");
    st.graphql
        .auto_merge
        .insert(format!("{repo}#{number}"), method.to_string());
    json!({ "data": { "enablePullRequestAutoMerge": { "pullRequest": { "number": number } } } })
}
