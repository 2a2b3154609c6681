//! How a report enters the loop: its channel.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// Where a report came from. Every channel enters the same loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A grid worker on patrol (网格员巡查).
    Patrol,
    /// A resident's own report (居民上报).
    Resident,
    /// The 12345 hotline (热线).
    Hotline,
    /// An Open311 client.
    Open311,
    /// A camera alarm (视频发现).
    Video,
    /// An agenda item of a joint meeting (联席会议).
    Meeting,
    /// A property small matter (物业关键小事).
    Property,
    /// A department's data feed (部门推送).
    Feed,
    /// A resident's need the community published to member organizations (居民点单).
    Order,
}

impl Channel {
    pub const ALL: [Channel; 9] = [
        Channel::Patrol,
        Channel::Resident,
        Channel::Hotline,
        Channel::Open311,
        Channel::Video,
        Channel::Meeting,
        Channel::Property,
        Channel::Feed,
        Channel::Order,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Patrol => "patrol",
            Channel::Resident => "resident",
            Channel::Hotline => "hotline",
            Channel::Open311 => "open311",
            Channel::Video => "video",
            Channel::Meeting => "meeting",
            Channel::Property => "property",
            Channel::Feed => "feed",
            Channel::Order => "order",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Channel::Patrol => lang.pick("网格员巡查", "patrol"),
            Channel::Resident => lang.pick("居民上报", "resident"),
            Channel::Hotline => lang.pick("12345热线", "hotline"),
            Channel::Open311 => lang.pick("Open311", "Open311"),
            Channel::Video => lang.pick("视频发现", "video"),
            Channel::Meeting => lang.pick("联席会议", "joint meeting"),
            Channel::Property => lang.pick("物业", "property"),
            Channel::Feed => lang.pick("部门推送", "department feed"),
            Channel::Order => lang.pick("居民点单", "resident's order"),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| s.to_string())
    }
}
