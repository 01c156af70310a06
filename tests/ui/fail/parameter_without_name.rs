apicall_macros::include_api_calls!("parameter_without_name.yaml");

fn main() {}
