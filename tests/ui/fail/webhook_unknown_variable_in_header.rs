apicall_macros::include_api_calls!("webhook_unknown_variable_in_header.yaml");

fn main() {}
