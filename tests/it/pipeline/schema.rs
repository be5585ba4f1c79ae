//! The generated JSON Schema, checked by an independent validator (the `jsonschema` crate)
//! over YAML read by an independent reader (serde-saphyr): every shipped pipeline conforms, and
//! structurally broken fixtures do not.

use std::path::Path;

use super::util::{fixtures, root, yml_files};

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&codefleet::pipeline::schema()).expect("the schema is valid")
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn shipped_pipelines_conform_to_the_schema() {
    let v = validator();
    let mut files = yml_files(&root().join("pipelines"));
    files.push(fixtures("valid").join("all-kinds.yml"));
    assert!(files.len() >= 4);
    for file in files {
        let doc = yaml_as_json(&file);
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

#[test]
fn the_starter_pipeline_conforms_to_the_schema() {
    let doc: serde_json::Value = serde_saphyr::from_str(codefleet::pipeline::STARTER).unwrap();
    assert!(validator().is_valid(&doc));
}

#[test]
fn structural_mistakes_are_rejected_by_the_schema_too() {
    let v = validator();
    for name in [
        "02-unknown-field.yml",
        "03-wrong-type.yml",
        "04-missing-name.yml",
        "05-missing-tasks.yml",
        "07-task-no-kind.yml",
        "08-task-two-kinds.yml",
        "16-unknown-edit-format.yml",
        "17-unknown-provider.yml",
        "18-unknown-on-fail.yml",
        "38-unknown-field-nested.yml",
    ] {
        let doc = yaml_as_json(&fixtures("invalid").join(name));
        assert!(!v.is_valid(&doc), "{name} passes the schema");
    }
}

#[test]
fn every_field_is_documented_in_the_schema() {
    fn walk(schema: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
            for (name, prop) in props {
                if prop
                    .get("description")
                    .and_then(|d| d.as_str())
                    .is_none_or(str::is_empty)
                {
                    missing.push(format!("{at}.{name}"));
                }
            }
        }
    }
    let schema = codefleet::pipeline::schema();
    let mut missing = Vec::new();
    walk(&schema, "pipeline", &mut missing);
    for (name, def) in schema["$defs"].as_object().unwrap() {
        walk(def, name, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "fields without a doc comment: {missing:?}"
    );
}

#[test]
fn atomic_takes_task_file_or_none_in_the_schema() {
    let v = validator();
    let doc = |atomic: &str| {
        serde_json::json!({
            "version": 1,
            "name": "p",
            "tasks": [{ "name": "t", "patch": "x.diff", "atomic": atomic }],
        })
    };
    for ok in ["task", "file", "none"] {
        assert!(v.is_valid(&doc(ok)), "{ok}");
    }
    assert!(!v.is_valid(&doc("half")));
}
