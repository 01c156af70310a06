apicall_macros::include_api_calls!("duplicate_call_name.yaml");

fn main() {}
