apicall_macros::include_api_calls!("webhook_unknown_key.yaml");

fn main() {}
