apicall_macros::include_api_calls!("webhook_api_value_in_host.yaml");

fn main() {}
