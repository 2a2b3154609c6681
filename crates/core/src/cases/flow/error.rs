//! Why an action was refused. Nothing changes when one is returned.

use crate::ErrorCode;
use chrono::{DateTime, Utc};
use thiserror::Error;

use super::action::ActionKind;
use super::case::{RequestKind, SupervisionLevel};
use super::state::State;
use crate::i18n::{Lang, Localized};
use crate::orgs::DepartmentCode;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlowError {
    #[error("cannot {} a case that is {}", .action.label(Lang::En), .state.label(Lang::En))]
    WrongState { action: ActionKind, state: State },
    #[error("{account} may not {} this case", .action.label(Lang::En))]
    NotPermitted { action: ActionKind, account: String },
    #[error("nobody checks or closes the work of their own unit")]
    OwnWork { action: ActionKind },
    #[error("{} needs a reason", .action.label(Lang::En))]
    MissingReason { action: ActionKind },
    #[error("{} needs at least one photo", .action.label(Lang::En))]
    MissingPhotos { action: ActionKind },
    #[error("report back needs a result")]
    MissingResult,
    #[error("there is no pending {}", .kind.label(Lang::En))]
    NoPendingRequest { kind: RequestKind },
    #[error("a {} is already pending", .kind.label(Lang::En))]
    AlreadyPending { kind: RequestKind },
    #[error("an extension must give more time: a positive limit, or a deadline after the current one")]
    BadExtension,
    #[error("the lead handler cannot also be a co-handler, and no co-handler may be named twice")]
    BadHandlers,
    #[error("a case cannot be merged into itself")]
    MergeIntoSelf,
    #[error("a whistle summons at least one department, each once")]
    BadSummons,
    #[error("the report-in deadline must be after now")]
    ReportInInPast,
    #[error("department {department} has not been summoned, or has already reported in")]
    NotSummoned { department: DepartmentCode },
    #[error("supervision may keep or raise the level ({}), not lower it to {}", .current.label(Lang::En), .requested.label(Lang::En))]
    SupervisionLowered {
        current: SupervisionLevel,
        requested: SupervisionLevel,
    },
    #[error(
        "a follow-up that reached the reporter says whether it is solved and how satisfied they are; one that did not says neither"
    )]
    BadFollowUp,
    #[error("the reporter has already been reached for this closing")]
    FollowUpDone,
    #[error("a case can be reopened only within {days} days of closing (closed at {closed_at})")]
    OutsideReopenWindow { closed_at: DateTime<Utc>, days: u32 },
    #[error("a case is reopened only when the follow-up reached the reporter and found it not solved or not satisfied")]
    NotUnsettled,
}

impl Localized for FlowError {
    fn code(&self) -> ErrorCode {
        match self {
            FlowError::WrongState { .. } => ErrorCode::CaseWrongState,
            FlowError::NotPermitted { .. } => ErrorCode::CaseNotPermitted,
            FlowError::OwnWork { .. } => ErrorCode::CaseOwnWork,
            FlowError::MissingReason { .. } => ErrorCode::CaseMissingReason,
            FlowError::MissingPhotos { .. } => ErrorCode::CaseMissingPhotos,
            FlowError::MissingResult => ErrorCode::CaseMissingResult,
            FlowError::NoPendingRequest { .. } => ErrorCode::CaseNoPendingRequest,
            FlowError::AlreadyPending { .. } => ErrorCode::CaseRequestPending,
            FlowError::BadExtension => ErrorCode::CaseBadExtension,
            FlowError::BadHandlers => ErrorCode::CaseBadHandlers,
            FlowError::MergeIntoSelf => ErrorCode::CaseMergeIntoSelf,
            FlowError::BadSummons => ErrorCode::CaseBadSummons,
            FlowError::ReportInInPast => ErrorCode::CaseReportInInPast,
            FlowError::NotSummoned { .. } => ErrorCode::CaseNotSummoned,
            FlowError::SupervisionLowered { .. } => ErrorCode::CaseSupervisionLowered,
            FlowError::BadFollowUp => ErrorCode::CaseBadFollowUp,
            FlowError::FollowUpDone => ErrorCode::CaseFollowUpDone,
            FlowError::OutsideReopenWindow { .. } => ErrorCode::CaseOutsideReopenWindow,
            FlowError::NotUnsettled => ErrorCode::CaseNotUnsettled,
        }
    }

    fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        let zh = Lang::Zh;
        match self {
            FlowError::WrongState { action, state } => {
                format!("案件当前为“{}”，不能{}", state.label(zh), action.label(zh))
            }
            FlowError::NotPermitted { action, account } => {
                format!("账号 {account} 无权对本案件执行“{}”", action.label(zh))
            }
            FlowError::OwnWork { action } => format!("不能对本单位处置的案件执行“{}”", action.label(zh)),
            FlowError::MissingReason { action } => format!("“{}”须填写理由", action.label(zh)),
            FlowError::MissingPhotos { action } => format!("“{}”须附至少一张照片", action.label(zh)),
            FlowError::MissingResult => "处置反馈须填写处置结果".into(),
            FlowError::NoPendingRequest { kind } => format!("没有待审批的{}", kind.label(zh)),
            FlowError::AlreadyPending { kind } => format!("已有待审批的{}", kind.label(zh)),
            FlowError::BadExtension => "延期须延长时限：时限须大于零，或新期限晚于当前期限".into(),
            FlowError::BadHandlers => "主办单位不能同时为协办单位，协办单位不能重复".into(),
            FlowError::MergeIntoSelf => "案件不能合并到自身".into(),
            FlowError::BadSummons => "吹哨须召集至少一个部门，且部门不能重复".into(),
            FlowError::ReportInInPast => "报到期限须晚于当前时间".into(),
            FlowError::NotSummoned { department } => format!("部门 {department} 未被召集或已报到"),
            FlowError::SupervisionLowered { current, requested } => format!(
                "督办只能维持或升级（当前为{}），不能降为{}",
                current.label(zh),
                requested.label(zh)
            ),
            FlowError::BadFollowUp => "回访联系上报人时须填写是否解决及满意度；未联系上时两者均不填".into(),
            FlowError::FollowUpDone => "本次结案已回访".into(),
            FlowError::OutsideReopenWindow { closed_at, days } => format!(
                "案件只能在结案后{days}日内重办（结案时间 {}）",
                crate::time::city_time(*closed_at).format("%Y-%m-%d %H:%M")
            ),
            FlowError::NotUnsettled => "只有回访联系到上报人且反映未解决或不满意的案件才能重办".into(),
        }
    }
}
