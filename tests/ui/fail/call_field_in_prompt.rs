apicall_macros::include_api_calls!("call_field_in_prompt.yaml");

fn main() {}
