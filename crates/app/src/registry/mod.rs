//! The registry (实有人口登记): importing staff's spreadsheets and exporting what is registered.

pub mod export;
pub mod import;

use gongzhi_core::ErrorCode;
use gongzhi_core::import::Reach;
use gongzhi_core::people::Actor;

use crate::AppError;

/// No import template has this key.
pub fn unknown_template(key: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownTemplate,
        Some("template"),
        format!("没有名为“{key}”的导入模板"),
        format!("no import template is called {key:?}"),
    )
}

/// The reach of an importer, or 403 for someone who may not import.
pub fn importer_reach(actor: &Actor) -> Result<Reach, AppError> {
    let reach = Reach::of(actor);
    if reach.is_empty() {
        Err(AppError::forbidden(
            "只有系统管理员、街道工作人员和社区工作者可以导入",
            "only system administrators, street staff and community workers may import",
        ))
    } else {
        Ok(reach)
    }
}
