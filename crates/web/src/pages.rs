//! What every staff page shares: the language, the signed-in person, the navigation (with the
//! counts of their inboxes) and the CSRF token for forms. Templates extend `base.html` and get a
//! [`Chrome`] named `c`; words are written in both languages where they are used, as
//! `{{ c.tr("中文", "English") }}`.

use chrono::{DateTime, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::people::{Role, Scope};
use gongzhi_core::time::city_time;

use crate::people::session::Staff;

/// One link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    /// Marks the link of the current section.
    pub current: bool,
    /// A live count beside the link (the inbox total), updated by server-sent events.
    pub count: Option<i64>,
    /// The element id the live update writes to.
    pub count_id: &'static str,
}

/// The frame of a page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub signed_in: bool,
    pub display_name: String,
    pub username: String,
    pub roles: String,
    pub csrf: String,
    pub nav: Vec<NavLink>,
}

/// A page as HTML; a template that fails to render is a server bug, logged, shown as a 500.
pub fn render(page: &impl askama::Template) -> Result<axum::response::Html<String>, crate::ApiError> {
    page.render().map(axum::response::Html).map_err(|e| {
        tracing::error!(error = %e, "template");
        crate::AppError::new(ErrorCode::Internal, None, "页面渲染失败", "page rendering failed")
    })
}

/// A time as people in the city read it: `2026-11-27 09:30`.
pub fn local_time(t: DateTime<Utc>) -> String {
    city_time(t).format("%Y-%m-%d %H:%M").to_string()
}

impl Chrome {
    /// The frame for a signed-in person; `section` is the href of the current navigation link.
    pub fn for_staff(staff: &Staff, section: &str) -> Chrome {
        let lang = staff.lang;
        let actor = &staff.actor;
        let has = |roles: &[Role]| roles.iter().any(|r| actor.has_role(*r));
        let working = has(&Role::WORKING);
        let mut nav = Vec::new();
        if working {
            nav.push(NavLink {
                href: "/inbox",
                label: lang.pick("待办", "Inbox"),
                current: section == "/inbox",
                count: staff.inbox_total,
                count_id: "nav-inbox-count",
            });
        }
        let mut link = |href: &'static str, zh: &'static str, en: &'static str| {
            nav.push(NavLink {
                href,
                label: lang.pick(zh, en),
                current: href == section,
                count: None,
                count_id: "",
            })
        };
        if working {
            link("/cases", "案件", "Cases");
        }
        if has(&[Role::IntakeClerk]) {
            link("/cases/new", "新建案件", "New case");
        }
        link("/territory", "区划与网格", "Territory");
        if has(&crate::registry::READERS) {
            link("/registry", "实有人口", "Registry");
        }
        if has(&[Role::CommunityWorker, Role::StreetStaff]) {
            link("/cogov/notices", "通知公告", "Notices");
            link("/cogov/groups", "社群", "Groups");
            link("/cogov/surveys", "问卷", "Surveys");
            link("/cogov/orders", "居民点单", "Needs");
        }
        if has(&[Role::Liaison]) {
            link("/cogov/offers", "单位接单", "Offers");
        }
        if has(&gongzhi_app::cogov::meetings::READERS) {
            link("/cogov/bodies", "联席会议", "Joint meetings");
        }
        if has(&gongzhi_app::cogov::agreements::READERS) {
            link("/cogov/agreements", "共建协议", "Agreements");
        }
        if has(&gongzhi_core::import::IMPORTERS) || has(&[Role::PersonalDataExporter]) {
            link("/registry/import", "导入", "Import");
        }
        if has(&[Role::SystemAdmin, Role::SecurityAdmin]) {
            link("/admin/accounts", "账户管理", "Accounts");
        }
        let mut roles: Vec<String> = actor
            .grants
            .iter()
            .map(|g| {
                let scope = match &g.scope {
                    Scope::Territory(t) => t.to_string(),
                    Scope::Department(d) => d.to_string(),
                    Scope::Organization(o) => format!("organization:{o}"),
                };
                format!("{} · {scope}", g.role.label(lang))
            })
            .collect();
        roles.dedup();
        Chrome {
            lang,
            signed_in: true,
            display_name: staff.account.display_name.clone(),
            username: staff.account.username.clone(),
            roles: roles.join("；"),
            csrf: staff.csrf.clone(),
            nav,
        }
    }

    /// The frame of the sign-in page: nobody signed in yet.
    pub fn anonymous(lang: Lang) -> Chrome {
        Chrome {
            lang,
            signed_in: false,
            display_name: String::new(),
            username: String::new(),
            roles: String::new(),
            csrf: String::new(),
            nav: vec![],
        }
    }

    /// Picks the word of the page's language.
    pub fn tr<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn product(&self) -> &'static str {
        self.tr("共治 · 基层治理平台", "Gongzhi · grassroots governance")
    }

    /// The switch to the other language: its label and its code.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Zh => ("English", "en"),
            Lang::En => ("中文", "zh-CN"),
        }
    }
}
