apicall_macros::include_api_calls!("webhook_collected_variable.yaml");

fn main() {}
