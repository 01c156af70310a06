apicall_macros::include_api_calls!("webhook_default_in_body.yaml");

fn main() {}
