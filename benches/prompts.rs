//! Rendering the seed greeting: the generated renderer (plain string pushes) vs the same
//! template in minijinja and in handlebars, each precompiled once, and in askama (compiled to
//! Rust like ours), measured in the same run. Each renders exactly the generated text, checked
//! before measuring. Goals: at least 15x faster than minijinja and 40x faster than handlebars,
//! and no slower than askama.
//!
//! Run: `cargo bench -p apicall-benches --bench prompts`

use std::hint::black_box;

use apicall_runtime::Secret;
use apicall_tests::seed;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

/// The seed's `greeting`, which both engines read as it is.
const GREETING: &str = include_str!("../examples/calls.yaml");

fn greeting_template() -> String {
    let start = GREETING.find("Hello ").expect("the seed has a greeting");
    format!("{}\n", GREETING[start..].trim_end())
}

/// The greeting in askama: the same text, each `api.*` value rendered when a call has
/// extracted it and as nothing otherwise, as the generated renderer does. `txt` templates are
/// not escaped.
#[derive(askama::Template)]
#[template(
    source = "Hello {% if let Some(value) = api.customer_name %}{{ value }}{% endif %}! \
              I see you're a {% if let Some(value) = api.tier %}{{ value }}{% endif %} member. \
              Your last order is {% if let Some(value) = api.last_order %}{{ value }}{% endif %}.\n",
    ext = "txt"
)]
struct AskamaGreeting<'a> {
    api: &'a seed::ApiValues,
}

fn bench(c: &mut Criterion) {
    let context = seed::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new("k"),
    };
    let api = seed::ApiValues {
        customer_name: Some("Ada Lovelace".to_owned()),
        tier: Some("gold".to_owned()),
        last_order: Some("A-1042".to_owned()),
        order_status: None,
    };
    let template = greeting_template();
    let values =
        json!({"api": {"customer_name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}});

    let mut jinja = minijinja::Environment::new();
    jinja.set_keep_trailing_newline(true);
    jinja
        .add_template("greeting", &template)
        .expect("valid jinja");
    let jinja = jinja.get_template("greeting").expect("added");
    let mut handlebars = handlebars::Handlebars::new();
    handlebars
        .register_template_string("greeting", &template)
        .expect("valid handlebars");

    let expected = seed::render_greeting(&context, &api);
    assert_eq!(jinja.render(&values).expect("renders"), expected);
    assert_eq!(
        handlebars.render("greeting", &values).expect("renders"),
        expected
    );
    // askama renders what the generated renderer does, with every value or with some not
    // extracted yet.
    for api in [
        api.clone(),
        seed::ApiValues {
            tier: None,
            ..api.clone()
        },
        seed::ApiValues::default(),
    ] {
        assert_eq!(
            askama::Template::render(&AskamaGreeting { api: &api }).expect("renders"),
            seed::render_greeting(&context, &api)
        );
    }

    let mut group = c.benchmark_group("render_seed_greeting");
    group.bench_function("generated", |b| {
        b.iter(|| seed::render_greeting(black_box(&context), black_box(&api)));
    });
    group.bench_function("askama", |b| {
        b.iter(|| {
            askama::Template::render(&AskamaGreeting {
                api: black_box(&api),
            })
            .expect("renders")
        });
    });
    group.bench_function("minijinja", |b| {
        b.iter(|| jinja.render(black_box(&values)).expect("renders"));
    });
    group.bench_function("handlebars", |b| {
        b.iter(|| {
            handlebars
                .render("greeting", black_box(&values))
                .expect("renders")
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
