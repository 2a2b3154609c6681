#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gongzhi_fuzzing::image(data));
