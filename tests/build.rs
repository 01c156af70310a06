//! Compiles the YAML fixtures through the build.rs front door, so tests can compare it with the
//! macro's output and clippy can check the generated code under `pedantic` (see lib.rs).
use std::fmt::Write as _;
use std::path::PathBuf;

/// Response variables in the generated `wide.yaml`: more than rustc can take in one derived
/// `PartialEq` (an `&&` chain) or `Serialize` (a `1 + 1 + …` field count) without overflowing
/// its stack, which it did at about 5,000.
const WIDE_VALUES: usize = 6_000;

fn main() -> Result<(), apicall_build::BuildError> {
    let builder = apicall_build::Builder::new();
    builder.compile("../examples/calls.yaml")?;
    builder.compile("fixtures/language.yaml")?;
    builder.compile("fixtures/webhooks.yaml")?;
    builder.compile("fixtures/prompts.yaml")?;
    builder.compile("fixtures/parameters.yaml")?;
    builder.compile("fixtures/messages.yaml")?;
    builder.compile("fixtures/background.yaml")?;
    builder.compile("fixtures/auth.yaml")?;
    builder.compile(wide_yaml()?)?;
    Ok(())
}

/// Writes `wide.yaml` into `OUT_DIR`: one call extracting [`WIDE_VALUES`] values `f0`, `f1`, …
/// from `record.f0`, …: strings, integers, numbers and booleans in turn, every tenth required.
/// Generated rather than checked in: it is 300 KB of one repeated line.
fn wide_yaml() -> Result<PathBuf, apicall_build::BuildError> {
    let mut yaml = String::from(
        "api_calls:\n  - name: wide_lookup\n    description: Look up a record with many fields\n    \
         url: https://records.example.com/wide\n    method: GET\n    response_variables:\n",
    );
    for i in 0..WIDE_VALUES {
        let ty = ["string", "integer", "number", "boolean"][i % 4];
        let required = i % 10 == 9;
        let _ = writeln!(
            yaml,
            "      - {{ path: record.f{i}, variable: f{i}, type: {ty}, required: {required} }}"
        );
    }
    let out_dir = std::env::var_os("OUT_DIR").ok_or(apicall_build::BuildError::NoOutDir)?;
    let path = PathBuf::from(out_dir).join("wide.yaml");
    // Written only when it differs: the builder has Cargo watch every file it compiles, and
    // a fresh modification time made Cargo rebuild this crate and all its tests on every
    // `cargo test`, even with nothing changed.
    if std::fs::read_to_string(&path).is_ok_and(|written| written == yaml) {
        return Ok(path);
    }
    std::fs::write(&path, yaml).map_err(|source| apicall_build::BuildError::Io {
        action: "write",
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
