//! The macro invoked from `src/main.rs`, the YAML beside it. Each file holds one deliberate
//! type mismatch that rust-analyzer can only report if it expanded the macro: it proves the
//! generated module resolves in the editor.

mod calls {
    apicall_macros::include_api_calls!("calls.yaml");
}

fn main() {
    let context = calls::Context {
        caller_phone: "+15551234567".into(),
    };
    let api = calls::ApiValues::default();
    let probe: u32 = api.customer_name.clone();
    println!("{probe} {}", context.caller_phone);
}
