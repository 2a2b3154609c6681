//! The SMS gateways of residents' sign-in codes live in the application
//! ([`gongzhi_app::people::sms`]); named here too so that servers and tests built on the web crate
//! hand one to [`crate::AppState::with_sms`] without naming the application crate.

pub use gongzhi_app::people::sms::{LogGateway, MemoryGateway, NoGateway, SendResult, SmsGateway};
