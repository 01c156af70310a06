apicall_macros::include_api_calls!("webhook_timeout_out_of_range.yaml");

fn main() {}
