//! `uniffi-bindgen generate --library target/debug/libtessera_ffi.so -l kotlin -c uniffi.toml -o OUT`
//! (see scripts/bindings).

fn main() {
    uniffi::uniffi_bindgen_main()
}
