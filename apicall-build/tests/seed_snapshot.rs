//! The code generated for the seed calls.yaml, kept as a snapshot so reviewers see every change.

#[test]
fn seed_generates_the_reviewed_code() {
    let yaml = include_str!("../../examples/calls.yaml");
    let generated = apicall_build::compile("calls.yaml", yaml).expect("the seed is valid");
    insta::assert_snapshot!("seed", generated.to_rust_source());
}
