//! How one-time codes reach residents' phones: a [`SmsGateway`] the application is given. The
//! built-in [`LogGateway`] only writes the code to the server log (for development only: `gongzhi
//! demo` uses it, `gongzhi serve` only with `sms_gateway = "log"`); [`NoGateway`] sends nothing
//! (the default: residents cannot sign in); [`MemoryGateway`] keeps the codes for tests to read. A
//! real gateway (a carrier's or a cloud SMS service) implements the trait and is handed to
//! [`crate::App::with_sms`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use gongzhi_core::people::resident::Phone;

/// What sending returns: `Err` with a reason the log keeps (the resident sees a general message).
pub type SendResult<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Sends a sign-in code to a phone.
pub trait SmsGateway: Send + Sync {
    fn send_code<'a>(&'a self, phone: &'a Phone, code: &'a str) -> SendResult<'a>;
}

/// Writes the code to the server log at WARN. For development only: anyone who reads the log can
/// sign in as anyone.
#[derive(Debug, Default)]
pub struct LogGateway;

impl SmsGateway for LogGateway {
    fn send_code<'a>(&'a self, phone: &'a Phone, code: &'a str) -> SendResult<'a> {
        let masked = phone.masked();
        Box::pin(async move {
            tracing::warn!(
                phone = %masked,
                code,
                "SMS sign-in code (LogGateway, for development only: configure a real SMS gateway in production)"
            );
            Ok(())
        })
    }
}

/// No gateway: residents cannot sign in (the default of a server until one is configured).
#[derive(Debug, Default)]
pub struct NoGateway;

impl SmsGateway for NoGateway {
    fn send_code<'a>(&'a self, _phone: &'a Phone, _code: &'a str) -> SendResult<'a> {
        Box::pin(async { Err("no SMS gateway is configured (sms_gateway)".to_string()) })
    }
}

/// Keeps every code sent, for tests.
#[derive(Debug, Default)]
pub struct MemoryGateway {
    sent: Mutex<Vec<(String, String)>>,
}

impl MemoryGateway {
    /// The last code sent to `phone` (as typed, normalised).
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let phone = Phone::parse(phone).ok()?;
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .rev()
            .find(|(p, _)| p == phone.expose())
            .map(|(_, c)| c.clone())
    }
}

impl SmsGateway for MemoryGateway {
    fn send_code<'a>(&'a self, phone: &'a Phone, code: &'a str) -> SendResult<'a> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((phone.expose().to_string(), code.to_string()));
        Box::pin(async { Ok(()) })
    }
}
