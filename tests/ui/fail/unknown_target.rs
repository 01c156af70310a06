apicall_macros::include_api_calls!("calls.yaml", targets = ["openai", "antropic"]);

fn main() {}
