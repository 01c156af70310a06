//! The code generated for the seed and for the every-feature fixture, kept as snapshots so
//! reviewers see every change to the output.

#[test]
fn seed_generates_the_reviewed_code() {
    let yaml = include_str!("../../examples/calls.yaml");
    let generated = apicall_build::compile("calls.yaml", yaml).expect("the seed is valid");
    insta::assert_snapshot!("seed", generated.to_rust_source());
}

#[test]
fn every_language_feature_generates_the_reviewed_code() {
    let yaml = include_str!("../../tests/fixtures/language.yaml");
    let generated = apicall_build::compile("language.yaml", yaml).expect("the fixture is valid");
    insta::assert_snapshot!("language", generated.to_rust_source());
}

#[test]
fn webhooks_generate_the_reviewed_code() {
    let yaml = include_str!("../../tests/fixtures/webhooks.yaml");
    let generated = apicall_build::compile("webhooks.yaml", yaml).expect("the fixture is valid");
    insta::assert_snapshot!("webhooks", generated.to_rust_source());
}

#[test]
fn arrays_objects_and_integer_enums_generate_the_reviewed_code() {
    let yaml = include_str!("../../tests/fixtures/parameters.yaml");
    let generated = apicall_build::compile("parameters.yaml", yaml).expect("the fixture is valid");
    insta::assert_snapshot!("parameters", generated.to_rust_source());
}

#[test]
fn async_calls_generate_the_reviewed_code() {
    let yaml = include_str!("../../tests/fixtures/background.yaml");
    let generated = apicall_build::compile("background.yaml", yaml).expect("the fixture is valid");
    insta::assert_snapshot!("background", generated.to_rust_source());
}
