//! The JSON Schema for editors: the committed file is what the compiler generates, and every
//! example calls.yaml in the repository validates against it.

use std::path::{Path, PathBuf};

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&apicall_build::json_schema()).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("readable example");
    serde_saphyr::from_str(&text).expect("the example is YAML")
}

#[test]
fn committed_schema_is_up_to_date() {
    let path = repository().join("schema/calls.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == apicall_build::json_schema(),
        "schema/calls.schema.json is stale: run `cargo run -p apicall-cli -- schema > schema/calls.schema.json`"
    );
}

#[test]
fn every_valid_example_validates_against_the_schema() {
    let validator = validator();
    let mut examples: Vec<PathBuf> = vec![
        repository().join("examples/calls.yaml"),
        repository().join("examples/agent.yaml"),
        repository().join("tests/fixtures/language.yaml"),
        repository().join("tests/fixtures/webhooks.yaml"),
    ];
    examples.retain(|path| path.exists());
    assert_eq!(examples.len(), 4);
    for path in examples {
        let document = yaml_as_json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn the_schema_flags_what_editors_should_flag() {
    let validator = validator();
    let bad = [
        "api_calls:\n  - name: a\n    description: x\n    url: https://x.example/\n    method: GET\n    reponse_variables: []\n",
        "api_calls:\n  - name: a\n    description: x\n    url: ftp://x.example/\n    method: GET\n",
        "api_calls:\n  - name: a\n    description: x\n    url: https://x.example/\n    method: FETCH\n",
        "api_calls:\n  - name: a\n    description: x\n    url: https://x.example/\n    method: GET\n    timeout_ms: 0\n",
        "variables:\n  k: { secret: yes-please }\napi_calls: []\n",
        "prompts: {}\n",
        "api_calls: []\nwebhooks:\n  post_cal: []\n",
        "api_calls: []\nwebhooks:\n  post_call:\n    - name: a\n      url: https://x.example/\n      retries: 11\n",
        "api_calls: []\nwebhooks:\n  post_call:\n    - name: a\n      url: https://x.example/\n      signing: k\n",
    ];
    for yaml in bad {
        let document: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
        assert!(!validator.is_valid(&document), "should be flagged:\n{yaml}");
    }
}

/// Editors find the schema through a `yaml-language-server` line naming a path relative to the
/// YAML file; the one in the repository must name the committed schema, whose `$id` is a name
/// that claims no web address.
#[test]
fn the_schema_modeline_in_the_examples_points_at_the_committed_schema() {
    let example = repository().join("examples/agent.yaml");
    let text = std::fs::read_to_string(&example).expect("readable example");
    let target = text
        .lines()
        .find_map(|line| line.strip_prefix("# yaml-language-server: $schema="))
        .expect("examples/agent.yaml names its schema");
    let schema_path = example.parent().expect("a directory").join(target.trim());
    let on_disk = std::fs::read_to_string(&schema_path).expect("the modeline's schema exists");
    let schema: serde_json::Value = serde_json::from_str(&on_disk).expect("JSON");
    assert_eq!(schema["$id"], "urn:apicall:calls.schema.json");
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("$schema={}", target.trim())),
        "README shows the same modeline"
    );
}
