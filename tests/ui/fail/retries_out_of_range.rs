apicall_macros::include_api_calls!("retries_out_of_range.yaml");

fn main() {}
