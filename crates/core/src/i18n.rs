//! The two languages of the product. Chinese is the default everywhere.

use serde::Serialize;

use crate::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Reads a language tag (`zh-CN`, `en`, `en-US;q=0.8` …); anything not English is Chinese.
    pub fn from_tag(tag: &str) -> Lang {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("en") { Lang::En } else { Lang::Zh }
    }

    /// Picks the first language named in an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Lang {
        header.split(',').next().map(Lang::from_tag).unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Chooses between a Chinese and an English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// An error or label that can speak both languages of the product.
pub trait Localized {
    /// The catalogue's code of this error, e.g. [`ErrorCode::InvalidCode`].
    fn code(&self) -> ErrorCode;
    fn message(&self, lang: Lang) -> String;
}
