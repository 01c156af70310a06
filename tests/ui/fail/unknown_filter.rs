apicall_macros::include_api_calls!("unknown_filter.yaml");

fn main() {}
