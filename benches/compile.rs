//! How compiling a calls.yaml scales with its size: a generated file of 1,000, 10,000 and
//! 50,000 calls, each size its own criterion group, and 20,000 variables in one prompt.
//!
//! The rows of each size:
//!
//! - `baseline_yaml_parse`: parsing the same YAML into a generic value with serde-saphyr,
//!   measured in the same run, so the report shows what checking and generating cost on top
//!   of reading the file at all;
//! - `check`: what `apicall check` does (parse and validate, no code);
//! - `expand`: what the `include_api_calls!` macro does, the file compiled to tokens;
//! - `expand_formatted`: that, formatted with prettyplease, as build.rs writes it and
//!   `apicall expand` prints it. Only up to 10,000 calls (50,000 with
//!   `APICALL_BENCH_FORMAT_50K=1`): formatting 450 MB of Rust takes minutes in a debug build.
//!
//! The compiler promises linear growth (at most 10.5× the time per ×10 calls), a 10,000-call
//! file expanded in under 4 s in a debug build, and a 20,000-variable prompt in well under a
//! second (it once took 21 s, placing each variable rescanning the text). After the groups, a
//! summary prints each row's growth per ×10 calls, from criterion's estimates of this run: the
//! 1k → 10k ratio, and the 10k → 50k ratio both as measured (×5) and normalised to ×10
//! (raised to the power ln 10 / ln 5), with the peak memory of the process.
//!
//! Groups are named by size and build, `<size>_calls_<build>` (`10k_calls_release`,
//! `50k_calls_debug`), so debug and release results never overwrite each other's history.
//! Reproduce:
//!
//! - everything, release: `cargo bench -p apicall-benches --bench compile`;
//! - one size: `cargo bench -p apicall-benches --bench compile -- 10k_calls` (or `1k_calls`,
//!   `50k_calls`, `long_prompt`); one row at every size: `-- 'calls_.*/expand$'`;
//! - a debug build, as the macro runs in a user's `cargo build` with this workspace's dev
//!   profile (which optimises the compiler and the crates it drives, see the root
//!   Cargo.toml): `cargo bench --profile dev -p apicall-benches --bench compile -- 10k_calls`;
//! - fully unoptimised, as the macro runs in a user's debug build without
//!   `[profile.dev.build-override] opt-level = 3`: a profile of its own, `unopt` (groups
//!   `<size>_calls_unopt`, built in target/unopt, so the dev build is left alone), with the
//!   packages the dev profile optimises set back to `opt-level = 0`:
//!
//!   ```sh
//!   cargo bench -p apicall-benches --bench compile --profile unopt \
//!     --config 'profile.unopt.inherits="dev"' \
//!     --config 'profile.unopt.package."apicall-build".opt-level=0' \
//!     --config 'profile.unopt.package."serde-saphyr".opt-level=0' \
//!     --config 'profile.unopt.package."granit-parser".opt-level=0' \
//!     --config 'profile.unopt.package."proc-macro2".opt-level=0' \
//!     --config 'profile.unopt.package."quote".opt-level=0' \
//!     --config 'profile.unopt.package."prettyplease".opt-level=0' -- 10k_calls
//!   ```
//!
//! To profile one row at one size without criterion: `APICALL_COMPILE_ONCE=expand:10000` (see
//! [`run_once`]) in the environment of the bench binary, e.g. under `perf record` or
//! `valgrind --tool=callgrind`.
//!
//! Each row runs 10 samples of one iteration after one warm-up iteration (flat sampling): at
//! 50,000 calls an iteration takes seconds, and criterion warns that it cannot finish in the
//! target time, which is expected. A run of the 50,000-call group peaks at about 7 GB of memory.
//!
//! `expand` is measured outside a compiler, with proc-macro2's own token types, as build.rs and
//! `apicall expand` run; inside rustc the macro builds the compiler's tokens instead, and rustc
//! then parses and type-checks what it returns, which this benchmark does not see.

use std::cell::LazyCell;
use std::fmt::Write;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, measurement::WallTime};

/// The sizes measured, with the name of each one's group.
const SIZES: [(usize, &str); 3] = [(1_000, "1k"), (10_000, "10k"), (50_000, "50k")];

/// The rows of each size, in order, as the summary lists them.
const ROWS: [&str; 4] = ["baseline_yaml_parse", "check", "expand", "expand_formatted"];

/// The largest size `expand_formatted` runs at unless `APICALL_BENCH_FORMAT_50K` is set.
const FORMATTED_UP_TO: usize = 10_000;

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

/// Panics unless `yaml` is valid: a benchmark of a file with errors would measure the wrong
/// thing. `check_bytes` reports what `compile` would, in a fraction of its time.
fn assert_valid(yaml: &str) {
    if let Err(diagnostics) = apicall_build::check_bytes("calls.yaml", yaml.as_bytes()) {
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

/// serde-saphyr's options for the baseline: its default budget refuses a file of thousands of
/// calls, so it is lifted as apicall lifts its own (the same options at every size).
fn baseline_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 50_000_000;
    budget.max_events = 100_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// The build the benchmark was compiled in, from the directory Cargo put it in
/// (`target/release/deps/compile-…`): `release` for `cargo bench`, `debug` for `--profile dev`.
fn build() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let profile = exe.parent()?.parent()?.file_name()?;
            Some(profile.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| {
            String::from(if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            })
        })
}

/// Ten samples of one iteration each, after a single warm-up iteration.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(100));
}

fn bench_size(c: &mut Criterion, calls: usize, size: &str, build: &str) {
    // Made on first use: a filter that selects no row of this size skips generating it.
    let yaml = LazyCell::new(|| {
        let yaml = calls_file(calls);
        assert_valid(&yaml);
        yaml
    });
    let options = baseline_options();
    let mut group = c.benchmark_group(format!("{size}_calls_{build}"));
    configure(&mut group);
    group.bench_function("baseline_yaml_parse", |b| {
        b.iter(|| {
            serde_saphyr::from_str_with_options::<serde_json::Value>(
                black_box(&yaml),
                options.clone(),
            )
            .map(|_| ())
            .expect("the baseline parses the file");
        });
    });
    group.bench_function("check", |b| {
        b.iter(|| apicall_build::check_bytes("calls.yaml", black_box(yaml.as_bytes())));
    });
    // `compile` is the whole of the macro's work but reading the file: `include_api_calls!`
    // hands its tokens to rustc.
    group.bench_function("expand", |b| {
        b.iter(|| apicall_build::compile("calls.yaml", black_box(&yaml)).map(|_| ()));
    });
    if calls <= FORMATTED_UP_TO || std::env::var_os("APICALL_BENCH_FORMAT_50K").is_some() {
        group.bench_function("expand_formatted", |b| {
            b.iter(|| {
                apicall_build::compile("calls.yaml", black_box(&yaml))
                    .map(|g| g.to_rust_source().len())
            });
        });
    }
    group.finish();
}

fn bench_long_prompt(c: &mut Criterion, build: &str) {
    let yaml = LazyCell::new(|| {
        let yaml = long_prompt(20_000);
        assert_valid(&yaml);
        yaml
    });
    let mut group = c.benchmark_group(format!("long_prompt_{build}"));
    configure(&mut group);
    group.bench_function("20000_variables", |b| {
        b.iter(|| apicall_build::compile("calls.yaml", black_box(&yaml)).map(|_| ()));
    });
    group.finish();
}

/// Where criterion writes its results, found as criterion finds it.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        Some(PathBuf::from(metadata["target_directory"].as_str()?))
    });
    from_metadata.map_or_else(
        || PathBuf::from("target/criterion"),
        |t| t.join("criterion"),
    )
}

/// Criterion's estimate of the mean time of one iteration of `group/row`, in seconds, if this
/// run measured it (a file from an earlier run, or a row filtered out, does not count).
fn estimate(home: &std::path::Path, group: &str, row: &str, since: SystemTime) -> Option<f64> {
    let path = home.join(group).join(row).join("new/estimates.json");
    let written = std::fs::metadata(&path).ok()?.modified().ok()?;
    if written < since {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    Some(estimates["mean"]["point_estimate"].as_f64()? / 1e9)
}

/// The process's peak resident memory, from Linux's /proc.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.2} GiB", kib / 1024.0 / 1024.0))
}

fn seconds(time: Option<f64>) -> String {
    match time {
        Some(t) if t >= 1.0 => format!("{t:.2} s"),
        Some(t) => format!("{:.1} ms", t * 1e3),
        None => String::from("-"),
    }
}

/// The growth of each row with the file: per ×10 calls from 1k to 10k, and from 10k to 50k
/// as measured (×5) and normalised to ×10. Linear is 10× per ×10; the goal is at most 10.5×.
fn summary(build: &str, since: SystemTime) {
    let home = criterion_home();
    let mut lines = Vec::new();
    for row in ROWS {
        let times =
            SIZES.map(|(_, size)| estimate(&home, &format!("{size}_calls_{build}"), row, since));
        if times.iter().all(Option::is_none) {
            continue;
        }
        let ratio = |from: Option<f64>, to: Option<f64>| Some(to? / from?);
        let per_ten_1k = ratio(times[0], times[1]);
        let per_five = ratio(times[1], times[2]);
        let per_ten_10k = per_five.map(|r| r.powf(10f64.ln() / 5f64.ln()));
        let show = |r: Option<f64>| r.map_or_else(|| String::from("-"), |r| format!("{r:.2}×"));
        lines.push(format!(
            "{row:<20} {:>9} {:>9} {:>9}   {:>8} {:>8} {:>8}",
            seconds(times[0]),
            seconds(times[1]),
            seconds(times[2]),
            show(per_ten_1k),
            show(per_five),
            show(per_ten_10k),
        ));
    }
    if lines.is_empty() {
        return;
    }
    println!("\nCompile scaling, {build} build (criterion's mean of this run):");
    println!(
        "{:<20} {:>9} {:>9} {:>9}   {:>8} {:>8} {:>8}",
        "", "1k", "10k", "50k", "1k→10k", "10k→50k", "per ×10"
    );
    for line in lines {
        println!("{line}");
    }
    println!("Linear is 10× per ×10 calls (5× per ×5); the goal is at most 10.5× per ×10.");
    if let Some(peak) = peak_memory() {
        println!("Peak resident memory of the run: {peak}.");
    }
}

/// Runs one row at one size and exits, for a profiler: `APICALL_COMPILE_ONCE=expand:10000`
/// (a row of [`ROWS`], a number of calls), or `expand:10000:3` to run it three times in one
/// process. Criterion's own `--profile-time` repeats the row for a time instead, with
/// criterion's work in the profile too.
fn run_once(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(row), Some(Ok(calls)), times) = (
        parts.next(),
        parts.next().map(str::parse::<usize>),
        parts.next().map_or(Ok(1), str::parse::<usize>),
    ) else {
        panic!("APICALL_COMPILE_ONCE is `<row>:<calls>[:<times>]`, such as `expand:10000`");
    };
    let times = times.expect("the number of times is a number");
    let yaml = calls_file(calls);
    for _ in 0..times {
        let start = Instant::now();
        match row {
            "baseline_yaml_parse" => {
                let parsed = serde_saphyr::from_str_with_options::<serde_json::Value>(
                    &yaml,
                    baseline_options(),
                );
                assert!(parsed.is_ok(), "the baseline parses the file");
            }
            "check" => assert_valid(&yaml),
            "expand" => {
                apicall_build::compile("calls.yaml", &yaml).expect("the benchmark file is valid");
            }
            "expand_formatted" => {
                let generated = apicall_build::compile("calls.yaml", &yaml)
                    .expect("the benchmark file is valid");
                black_box(generated.to_rust_source());
            }
            _ => panic!("no row `{row}`: the rows are {}", ROWS.join(", ")),
        }
        eprintln!("{row} of {calls} calls: {:.3?}", start.elapsed());
    }
    if let Some(peak) = peak_memory() {
        eprintln!("peak resident memory: {peak}");
    }
}

fn main() {
    if let Some(spec) = std::env::var_os("APICALL_COMPILE_ONCE") {
        run_once(&spec.to_string_lossy());
        return;
    }
    let since = SystemTime::now();
    let build = build();
    let mut c = Criterion::default().configure_from_args();
    for (calls, size) in SIZES {
        bench_size(&mut c, calls, size, &build);
    }
    bench_long_prompt(&mut c, &build);
    c.final_summary();
    summary(&build, since);
}
