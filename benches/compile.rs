//! Compiling a 1,000-call calls.yaml: what the macro does on every build of a crate that uses
//! it (`compile`), and what build.rs does (`compile` + formatting). The baseline is parsing the
//! same YAML into a generic value with serde-saphyr, measured in the same run, so the report
//! shows what checking and generating cost on top of reading the file at all.
//!
//! Then the sizes the compiler promises to stay fast at: a 10,000-call file (checked in under
//! 1.5 s and expanded in under 4 s in a debug build) and 20,000 variables in one prompt (well
//! under a second), which once took 21 s because placing each variable rescanned the text.
//!
//! Run: `cargo bench -p apicall-benches --bench compile`, or one group with a filter such as
//! `-- 10000_calls`. Debug-build times: `cargo bench --profile dev ...`.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// A file shaped like real agent configurations: context variables, a secret header, path and
/// query templates, LLM parameters and a few response paths per call, and one prompt per call.
fn calls_file(calls: usize) -> String {
    let mut yaml = String::from(
        "variables:\n  caller_phone: { description: Caller's phone }\n  api_key: { secret: true }\napi_calls:\n",
    );
    for i in 0..calls {
        let _ = write!(
            yaml,
            "  - name: call_{i}
    description: Look up record {i} for the caller
    url: https://api{i}.example.com/v1/items/{{{{collected.item_id}}}}/detail
    method: GET
    timeout_ms: 3000
    headers:
      Authorization: Bearer {{{{api_key}}}}
    query:
      phone: \"{{{{caller_phone}}}}\"
      page: \"{{{{collected.page}}}}\"
    parameters:
      - {{ name: item_id, type: string, required: true, description: The item }}
      - {{ name: page, type: integer }}
    response_variables:
      - {{ path: item.name, variable: name_{i} }}
      - {{ path: \"item.tags[0]\", variable: tag_{i} }}
      - {{ path: item.price, variable: price_{i}, type: number }}
"
        );
    }
    yaml.push_str("prompts:\n");
    for i in 0..calls {
        let _ = writeln!(
            yaml,
            "  prompt_{i}: Item {{{{api.name_{i}}}}} costs {{{{api.price_{i}}}}}."
        );
    }
    yaml
}

/// One call and one prompt holding `variables` references to its response value.
fn long_prompt(variables: usize) -> String {
    format!(
        "api_calls:\n  - name: lookup\n    description: Look up the caller\n    url: https://crm.example.com/\n    method: GET\n    response_variables:\n      - {{ path: customer.name, variable: name }}\nprompts:\n  greeting: \"{}\"\n",
        "Hi {{api.name}}. ".repeat(variables)
    )
}

/// Panics unless `yaml` compiles: a benchmark of a file with errors would measure the wrong
/// thing.
fn assert_valid(yaml: &str) {
    if let Err(diagnostics) = apicall_build::compile("calls.yaml", yaml) {
        panic!(
            "the benchmark file is valid: {}",
            diagnostics
                .iter()
                .next()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
}

fn bench(c: &mut Criterion) {
    let yaml = calls_file(1000);
    assert_valid(&yaml);
    let mut group = c.benchmark_group("1000_calls");
    group.sample_size(10);
    group.bench_function("baseline_yaml_parse", |b| {
        b.iter(|| serde_saphyr::from_str::<serde_json::Value>(black_box(&yaml)).map(|_| ()));
    });
    group.bench_function("check", |b| {
        b.iter(|| apicall_build::check_bytes("calls.yaml", black_box(yaml.as_bytes())));
    });
    group.bench_function("compile_macro_path", |b| {
        b.iter(|| apicall_build::compile("calls.yaml", black_box(&yaml)).map(|_| ()));
    });
    group.bench_function("compile_and_format_build_rs_path", |b| {
        b.iter(|| {
            apicall_build::compile("calls.yaml", black_box(&yaml)).map(|g| g.to_rust_source().len())
        });
    });
    group.finish();
}

fn bench_large(c: &mut Criterion) {
    let mut group = c.benchmark_group("10000_calls");
    group.sample_size(10);
    let yaml = calls_file(10_000);
    // Checked separately, so that a file the compiler still refuses (or a slow check) shows
    // as an error message or a time, not as a missing benchmark.
    match apicall_build::compile("calls.yaml", &yaml) {
        Ok(_) => {
            // serde-saphyr's default budget refuses a file this size; lift it as apicall does.
            let mut budget = serde_saphyr::Budget::default();
            budget.max_nodes = 2_500_000;
            budget.max_events = 5_000_000;
            let mut options = serde_saphyr::Options::default();
            options.budget = Some(budget);
            let parsed =
                serde_saphyr::from_str_with_options::<serde_json::Value>(&yaml, options.clone());
            assert!(parsed.is_ok(), "the baseline parses the file");
            group.bench_function("baseline_yaml_parse", |b| {
                b.iter(|| {
                    serde_saphyr::from_str_with_options::<serde_json::Value>(
                        black_box(&yaml),
                        options.clone(),
                    )
                    .map(|_| ())
                });
            });
            // What `apicall check` does: parse and validate, no code.
            group.bench_function("check", |b| {
                b.iter(|| apicall_build::check_bytes("calls.yaml", black_box(yaml.as_bytes())));
            });
            group.bench_function("compile_macro_path", |b| {
                b.iter(|| apicall_build::compile("calls.yaml", black_box(&yaml)).map(|_| ()));
            });
            group.bench_function("expand", |b| {
                b.iter(|| {
                    apicall_build::compile("calls.yaml", black_box(&yaml))
                        .map(|g| g.to_rust_source().len())
                });
            });
        }
        Err(diagnostics) => eprintln!(
            "10000_calls skipped, the file is refused: {}",
            diagnostics
                .iter()
                .next()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
    group.finish();

    let mut group = c.benchmark_group("long_prompt");
    group.sample_size(10);
    let yaml = long_prompt(20_000);
    assert_valid(&yaml);
    group.bench_function("20000_variables", |b| {
        b.iter(|| apicall_build::compile("calls.yaml", black_box(&yaml)).map(|_| ()));
    });
    group.finish();
}

criterion_group!(benches, bench, bench_large);
criterion_main!(benches);
