//! Compiles the seed through the build.rs front door, so a test can compare it with the macro's.
fn main() -> Result<(), apicall_build::BuildError> {
    apicall_build::Builder::new().compile("../examples/calls.yaml")?;
    Ok(())
}
