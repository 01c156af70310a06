apicall_macros::include_api_calls!("call_field_in_api_call.yaml");

fn main() {}
