//! Compiles the YAML fixtures through the build.rs front door, so tests can compare it with the
//! macro's output and clippy can check the generated code under `pedantic` (see lib.rs).
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
    Ok(())
}
