apicall_macros::include_api_calls!("api_value_in_host.yaml");

fn main() {}
