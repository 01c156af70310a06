apicall_macros::include_api_calls!("default_in_request.yaml");

fn main() {}
