//! The macro's front door: a valid file compiles cleanly, and a mistake is a compile error
//! that names the YAML file, line and column, at the macro's invocation (see the `.stderr`
//! beside each case). Only what needs the macro itself is built here: a missing or non-UTF-8
//! file, an argument that is not a string literal, recovery beside the errors, and one case of
//! each kind of diagnostic path. Every `tests/ui/fail/*.yaml` (one per diagnostic) is checked
//! in-process by apicall-build/tests/ui_cases.rs, which prints exactly what the macro prints.
//!
//! trybuild compiles the cases in a Cargo project of its own (under target/tests/trybuild),
//! which builds every dependency again. This test lives in apicall-macros, not in the `tests`
//! crate beside the cases, because that project depends on the testing crate's dependencies
//! *and dev-dependencies*: for `tests` that was the whole integration-test stack (wiremock,
//! axum, jsonschema, async-openai, criterion...) compiled a second time.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("../tests/ui/pass/*.rs");
    cases.compile_fail("../tests/ui/fail/*.rs");
}
