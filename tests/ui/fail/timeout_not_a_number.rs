apicall_macros::include_api_calls!("timeout_not_a_number.yaml");

fn main() {}
