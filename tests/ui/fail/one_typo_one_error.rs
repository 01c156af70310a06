//! A typo in the YAML is one error: the rest of the generated API still exists, so the code
//! that uses it adds no errors of its own.
mod calls {
    apicall_macros::include_api_calls!("one_typo_one_error.yaml");
}

async fn greet(client: &apicall_runtime::Client, context: &calls::Context) -> String {
    let mut api = calls::ApiValues::default();
    if let Ok(customer) = calls::lookup_customer(client, context).await {
        api.record_lookup_customer(&customer);
    }
    calls::render_greeting(context, &api)
}

fn main() {
    let _ = greet;
}
