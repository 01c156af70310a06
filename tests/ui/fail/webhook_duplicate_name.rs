apicall_macros::include_api_calls!("webhook_duplicate_name.yaml");

fn main() {}
