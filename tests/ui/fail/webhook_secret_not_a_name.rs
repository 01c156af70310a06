apicall_macros::include_api_calls!("webhook_secret_not_a_name.yaml");

fn main() {}
