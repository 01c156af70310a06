apicall_macros::include_api_calls!("invalid_header_name.yaml");

fn main() {}
