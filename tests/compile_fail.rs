//! The macro's front door: a valid file compiles cleanly, and a mistake is a compile error
//! that names the YAML file, line and column, at the macro's invocation (see the `.stderr`
//! beside each case). Only what needs the macro itself is built here: a missing or non-UTF-8
//! file, an argument that is not a string literal, recovery beside the errors, and one case of
//! each kind of diagnostic path. Every `tests/ui/fail/*.yaml` (one per diagnostic) is checked
//! in-process by apicall-build/tests/ui_cases.rs, which prints exactly what the macro prints.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
