apicall_macros::include_api_calls!("collected_not_a_parameter.yaml");

fn main() {}
