//! Compiling a 1,000-call calls.yaml: what the macro does on every build of a crate that uses
//! it (`compile`), and what build.rs does (`compile` + formatting). The baseline is parsing the
//! same YAML into a generic value with serde-saphyr, measured in the same run, so the report
//! shows what checking and generating cost on top of reading the file at all.
//!
//! Run: `cargo bench -p apicall-build --bench compile`

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// A file shaped like real agent configurations: context variables, a secret header, path and
/// query templates, LLM parameters and a few response paths per call, and one prompt per call.
fn thousand_calls() -> String {
    let mut yaml = String::from(
        "variables:\n  caller_phone: { description: Caller's phone }\n  api_key: { secret: true }\napi_calls:\n",
    );
    for i in 0..1000 {
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
    for i in 0..1000 {
        let _ = writeln!(
            yaml,
            "  prompt_{i}: Item {{{{api.name_{i}}}}} costs {{{{api.price_{i}}}}}."
        );
    }
    yaml
}

fn bench(c: &mut Criterion) {
    let yaml = thousand_calls();
    if let Err(diagnostics) = apicall_build::compile("calls.yaml", &yaml) {
        panic!(
            "the benchmark file is valid: {}",
            diagnostics
                .iter()
                .next()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    let mut group = c.benchmark_group("1000_calls");
    group.sample_size(10);
    group.bench_function("baseline_yaml_parse", |b| {
        b.iter(|| serde_saphyr::from_str::<serde_json::Value>(black_box(&yaml)).map(|_| ()));
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

criterion_group!(benches, bench);
criterion_main!(benches);
