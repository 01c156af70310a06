apicall_macros::include_api_calls!("collected_in_host.yaml");

fn main() {}
