apicall_macros::include_api_calls!("optional_parameter_in_url.yaml");

fn main() {}
