apicall_macros::include_api_calls!("timeout_out_of_range.yaml");

fn main() {}
