apicall_macros::include_api_calls!("webhook_secret_not_secret.yaml");

fn main() {}
