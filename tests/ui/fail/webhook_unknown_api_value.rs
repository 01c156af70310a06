apicall_macros::include_api_calls!("webhook_unknown_api_value.yaml");

fn main() {}
