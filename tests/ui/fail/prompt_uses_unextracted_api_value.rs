apicall_macros::include_api_calls!("prompt_uses_unextracted_api_value.yaml");

fn main() {}
