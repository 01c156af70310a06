apicall_macros::include_api_calls!("secret_in_prompt.yaml");

fn main() {}
