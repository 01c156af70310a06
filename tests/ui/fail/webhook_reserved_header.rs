apicall_macros::include_api_calls!("webhook_reserved_header.yaml");

fn main() {}
