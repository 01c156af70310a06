apicall_macros::include_api_calls!("enum_values_that_clash.yaml");

fn main() {}
