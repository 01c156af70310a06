//! Every compile-fail case under `tests/ui/fail/` (a calls.yaml with one kind of mistake),
//! compiled in-process: each snapshot is the text the macro and build.rs print for it, under
//! the file name the user wrote. trybuild still builds a few of them through the macro itself
//! (macro-tests/tests/compile_fail.rs) for what only the macro does: the span at the invocation, a missing
//! file, recovery beside the errors.

use std::path::Path;

#[test]
fn every_ui_case_prints_its_located_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui/fail");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/ui/fail")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    for path in cases {
        let file = path
            .file_name()
            .and_then(|name| name.to_str())
            .expect("a UTF-8 file name");
        let bytes = std::fs::read(&path).expect("readable case");
        let printed = match apicall_build::compile_bytes(file, &bytes) {
            Ok(_) => panic!("{file} should not compile"),
            Err(diagnostics) => diagnostics.to_string(),
        };
        let case = file.trim_end_matches(".yaml");
        insta::assert_snapshot!(case, printed);
    }
}
