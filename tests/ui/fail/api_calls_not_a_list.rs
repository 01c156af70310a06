apicall_macros::include_api_calls!("api_calls_not_a_list.yaml");

fn main() {}
