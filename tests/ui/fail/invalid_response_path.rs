apicall_macros::include_api_calls!("invalid_response_path.yaml");

fn main() {}
