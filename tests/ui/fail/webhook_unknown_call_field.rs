apicall_macros::include_api_calls!("webhook_unknown_call_field.yaml");

fn main() {}
