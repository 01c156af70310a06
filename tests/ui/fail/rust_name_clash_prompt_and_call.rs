apicall_macros::include_api_calls!("rust_name_clash_prompt_and_call.yaml");

fn main() {}
