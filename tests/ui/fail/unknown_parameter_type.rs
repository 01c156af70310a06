apicall_macros::include_api_calls!("unknown_parameter_type.yaml");

fn main() {}
