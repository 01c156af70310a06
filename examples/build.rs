fn main() -> Result<(), apicall_build::BuildError> {
    apicall_build::Builder::new().compile("calls.yaml")?;
    Ok(())
}
