apicall_macros::include_api_calls!("webhook_missing_url.yaml");

fn main() {}
