//! PDF text through the containment layer. With `MODELWATCH_BIN` naming a
//! built `modelwatch`, each input runs in a limited child process as in the
//! daemon; without it, on the bounded in-process thread.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(bin) = std::env::var_os("MODELWATCH_BIN") {
        modelwatch::contain::set_worker_exe(bin.into());
    }
    let mut body = b"%PDF-1.7\n".to_vec();
    body.extend_from_slice(data);
    let _ = modelwatch::sources::pdf::parse(&body);
});
