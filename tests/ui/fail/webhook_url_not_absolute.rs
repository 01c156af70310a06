apicall_macros::include_api_calls!("webhook_url_not_absolute.yaml");

fn main() {}
