apicall_macros::include_api_calls!("does_not_exist.yaml");

fn main() {}
