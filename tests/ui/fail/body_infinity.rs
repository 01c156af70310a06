apicall_macros::include_api_calls!("body_infinity.yaml");

fn main() {}
