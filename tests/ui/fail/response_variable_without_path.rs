apicall_macros::include_api_calls!("response_variable_without_path.yaml");

fn main() {}
