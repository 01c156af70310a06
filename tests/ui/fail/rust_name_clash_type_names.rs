apicall_macros::include_api_calls!("rust_name_clash_type_names.yaml");

fn main() {}
