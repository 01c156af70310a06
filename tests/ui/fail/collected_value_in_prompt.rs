apicall_macros::include_api_calls!("collected_value_in_prompt.yaml");

fn main() {}
