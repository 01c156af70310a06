apicall_macros::include_api_calls!("webhook_secret_undeclared.yaml");

fn main() {}
