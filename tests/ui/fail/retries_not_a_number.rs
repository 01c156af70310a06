apicall_macros::include_api_calls!("retries_not_a_number.yaml");

fn main() {}
