apicall_macros::include_api_calls!("webhook_retries_out_of_range.yaml");

fn main() {}
