//! The seed calls.yaml compiles warning-free under `deny(warnings)` and clippy's pedantic set.
#![deny(warnings)]
#![warn(clippy::pedantic)]

mod calls {
    apicall_macros::include_api_calls!("../../../examples/calls.yaml");
}

fn main() {
    let context = calls::Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: apicall_runtime::Secret::new("k"),
    };
    let api = calls::ApiValues {
        customer_name: Some("Ada".to_owned()),
        ..calls::ApiValues::default()
    };
    assert!(calls::render_greeting(&context, &api).starts_with("Hello Ada!"));
}
