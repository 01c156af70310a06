apicall_macros::include_api_calls!("unknown_top_level_key.yaml");

fn main() {}
