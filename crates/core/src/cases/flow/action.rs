//! What someone does to a case: one variant per transition, with its payload.
//!
//! JSON form: `{"action": "dispatch", "lead": {...}, "co_handlers": [...]}`, so the API body of
//! `POST /api/v1/cases/{id}/actions` deserialises straight into an `Action`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::case::{CaseLimits, CaseNumber, ExtendBy, RequestKind, Satisfaction, SupervisionLevel};
use crate::cases::UnitRef;
use crate::i18n::Lang;
use crate::orgs::DepartmentCode;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// 受理 (intake clerk).
    Accept,
    /// 不予受理 / 不予立案, from reported, accepted or verifying.
    Reject {
        reason: String,
    },
    /// 发核实: send a grid worker to verify the report before registering.
    SendToVerify,
    /// 核实完成 (grid worker), back to accepted.
    Verified {
        #[serde(default)]
        note: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 立案 (shift lead).
    Register,
    /// 派遣 (dispatcher). `limits`: what routing gave for this lead handler; `None` keeps the
    /// limits the case was routed with at intake.
    Dispatch {
        lead: UnitRef,
        #[serde(default)]
        co_handlers: Vec<UnitRef>,
        #[serde(default)]
        limits: Option<CaseLimits>,
    },
    /// 签收 (lead handler): the response clock stops.
    Acknowledge,
    /// 申请回退 (lead handler): wrongly dispatched.
    RequestReturn {
        reason: String,
    },
    ApproveReturn,
    DenyReturn {
        reason: String,
    },
    /// 申请延期 (lead handler).
    RequestExtension {
        extend_by: ExtendBy,
        reason: String,
    },
    ApproveExtension,
    DenyExtension {
        reason: String,
    },
    /// 申请挂账 (lead handler).
    RequestSuspension {
        reason: String,
    },
    ApproveSuspension,
    DenySuspension {
        reason: String,
    },
    /// 挂账恢复: the handling clock runs again and its deadline moves by the paused working time.
    Resume,
    /// 自处置: a grid worker fixed a trivial matter on the spot; the intake clerk reviews it.
    SelfHandle {
        #[serde(default)]
        note: String,
        photos: Vec<String>,
    },
    ApproveSelfHandling,
    DenySelfHandling {
        reason: String,
    },
    /// 处置反馈 (lead handler).
    ReportBack {
        result: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 核查通过.
    CheckPass {
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 核查不通过: back to handling for rework (返工).
    CheckFail {
        reason: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    /// 结案.
    Close,
    /// 申请作废.
    RequestCancel {
        reason: String,
    },
    ApproveCancel,
    DenyCancel {
        reason: String,
    },
    /// 回访.
    FollowUp {
        contacted: bool,
        #[serde(default)]
        solved: Option<bool>,
        #[serde(default)]
        satisfaction: Option<Satisfaction>,
    },
    /// 重办: back to handling.
    Reopen {
        reason: String,
    },
    /// 合并: this case duplicates `parent`.
    MergeInto {
        parent: CaseNumber,
    },
    /// 吹哨: summon departments; `report_in_by` defaults to the policy's limit after now.
    Whistle {
        departments: Vec<DepartmentCode>,
        #[serde(default)]
        report_in_by: Option<DateTime<Utc>>,
    },
    /// 报到: a summoned department arrived.
    ReportIn {
        department: DepartmentCode,
    },
    /// 督办.
    Supervise {
        level: SupervisionLevel,
        reason: String,
    },
}

/// The name of an action without its payload: for errors, events, indexes and permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Accept,
    Reject,
    SendToVerify,
    Verified,
    Register,
    Dispatch,
    Acknowledge,
    RequestReturn,
    ApproveReturn,
    DenyReturn,
    RequestExtension,
    ApproveExtension,
    DenyExtension,
    RequestSuspension,
    ApproveSuspension,
    DenySuspension,
    Resume,
    SelfHandle,
    ApproveSelfHandling,
    DenySelfHandling,
    ReportBack,
    CheckPass,
    CheckFail,
    Close,
    RequestCancel,
    ApproveCancel,
    DenyCancel,
    FollowUp,
    Reopen,
    MergeInto,
    Whistle,
    ReportIn,
    Supervise,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        use ActionKind as K;
        match self {
            Action::Accept => K::Accept,
            Action::Reject { .. } => K::Reject,
            Action::SendToVerify => K::SendToVerify,
            Action::Verified { .. } => K::Verified,
            Action::Register => K::Register,
            Action::Dispatch { .. } => K::Dispatch,
            Action::Acknowledge => K::Acknowledge,
            Action::RequestReturn { .. } => K::RequestReturn,
            Action::ApproveReturn => K::ApproveReturn,
            Action::DenyReturn { .. } => K::DenyReturn,
            Action::RequestExtension { .. } => K::RequestExtension,
            Action::ApproveExtension => K::ApproveExtension,
            Action::DenyExtension { .. } => K::DenyExtension,
            Action::RequestSuspension { .. } => K::RequestSuspension,
            Action::ApproveSuspension => K::ApproveSuspension,
            Action::DenySuspension { .. } => K::DenySuspension,
            Action::Resume => K::Resume,
            Action::SelfHandle { .. } => K::SelfHandle,
            Action::ApproveSelfHandling => K::ApproveSelfHandling,
            Action::DenySelfHandling { .. } => K::DenySelfHandling,
            Action::ReportBack { .. } => K::ReportBack,
            Action::CheckPass { .. } => K::CheckPass,
            Action::CheckFail { .. } => K::CheckFail,
            Action::Close => K::Close,
            Action::RequestCancel { .. } => K::RequestCancel,
            Action::ApproveCancel => K::ApproveCancel,
            Action::DenyCancel { .. } => K::DenyCancel,
            Action::FollowUp { .. } => K::FollowUp,
            Action::Reopen { .. } => K::Reopen,
            Action::MergeInto { .. } => K::MergeInto,
            Action::Whistle { .. } => K::Whistle,
            Action::ReportIn { .. } => K::ReportIn,
            Action::Supervise { .. } => K::Supervise,
        }
    }
}

impl ActionKind {
    pub const ALL: [ActionKind; 33] = [
        ActionKind::Accept,
        ActionKind::Reject,
        ActionKind::SendToVerify,
        ActionKind::Verified,
        ActionKind::Register,
        ActionKind::Dispatch,
        ActionKind::Acknowledge,
        ActionKind::RequestReturn,
        ActionKind::ApproveReturn,
        ActionKind::DenyReturn,
        ActionKind::RequestExtension,
        ActionKind::ApproveExtension,
        ActionKind::DenyExtension,
        ActionKind::RequestSuspension,
        ActionKind::ApproveSuspension,
        ActionKind::DenySuspension,
        ActionKind::Resume,
        ActionKind::SelfHandle,
        ActionKind::ApproveSelfHandling,
        ActionKind::DenySelfHandling,
        ActionKind::ReportBack,
        ActionKind::CheckPass,
        ActionKind::CheckFail,
        ActionKind::Close,
        ActionKind::RequestCancel,
        ActionKind::ApproveCancel,
        ActionKind::DenyCancel,
        ActionKind::FollowUp,
        ActionKind::Reopen,
        ActionKind::MergeInto,
        ActionKind::Whistle,
        ActionKind::ReportIn,
        ActionKind::Supervise,
    ];

    /// The stable name, as in the JSON `action` field (and `case.<name>` in the audit record).
    pub fn as_str(self) -> &'static str {
        use ActionKind as K;
        match self {
            K::Accept => "accept",
            K::Reject => "reject",
            K::SendToVerify => "send_to_verify",
            K::Verified => "verified",
            K::Register => "register",
            K::Dispatch => "dispatch",
            K::Acknowledge => "acknowledge",
            K::RequestReturn => "request_return",
            K::ApproveReturn => "approve_return",
            K::DenyReturn => "deny_return",
            K::RequestExtension => "request_extension",
            K::ApproveExtension => "approve_extension",
            K::DenyExtension => "deny_extension",
            K::RequestSuspension => "request_suspension",
            K::ApproveSuspension => "approve_suspension",
            K::DenySuspension => "deny_suspension",
            K::Resume => "resume",
            K::SelfHandle => "self_handle",
            K::ApproveSelfHandling => "approve_self_handling",
            K::DenySelfHandling => "deny_self_handling",
            K::ReportBack => "report_back",
            K::CheckPass => "check_pass",
            K::CheckFail => "check_fail",
            K::Close => "close",
            K::RequestCancel => "request_cancel",
            K::ApproveCancel => "approve_cancel",
            K::DenyCancel => "deny_cancel",
            K::FollowUp => "follow_up",
            K::Reopen => "reopen",
            K::MergeInto => "merge_into",
            K::Whistle => "whistle",
            K::ReportIn => "report_in",
            K::Supervise => "supervise",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        use ActionKind as K;
        let (zh, en) = match self {
            K::Accept => ("受理", "accept"),
            K::Reject => ("不予受理", "reject"),
            K::SendToVerify => ("发起核实", "send to verify"),
            K::Verified => ("核实完成", "verified"),
            K::Register => ("立案", "register"),
            K::Dispatch => ("派遣", "dispatch"),
            K::Acknowledge => ("签收", "acknowledge"),
            K::RequestReturn => ("申请回退", "request return"),
            K::ApproveReturn => ("批准回退", "approve return"),
            K::DenyReturn => ("驳回回退", "deny return"),
            K::RequestExtension => ("申请延期", "request extension"),
            K::ApproveExtension => ("批准延期", "approve extension"),
            K::DenyExtension => ("驳回延期", "deny extension"),
            K::RequestSuspension => ("申请挂账", "request suspension"),
            K::ApproveSuspension => ("批准挂账", "approve suspension"),
            K::DenySuspension => ("驳回挂账", "deny suspension"),
            K::Resume => ("挂账恢复", "resume"),
            K::SelfHandle => ("自处置", "self-handle"),
            K::ApproveSelfHandling => ("自处置审核通过", "approve self-handling"),
            K::DenySelfHandling => ("自处置审核不通过", "deny self-handling"),
            K::ReportBack => ("处置反馈", "report back"),
            K::CheckPass => ("核查通过", "check passed"),
            K::CheckFail => ("核查不通过", "check failed"),
            K::Close => ("结案", "close"),
            K::RequestCancel => ("申请作废", "request cancellation"),
            K::ApproveCancel => ("批准作废", "approve cancellation"),
            K::DenyCancel => ("驳回作废", "deny cancellation"),
            K::FollowUp => ("回访", "follow up"),
            K::Reopen => ("重办", "reopen"),
            K::MergeInto => ("合并", "merge"),
            K::Whistle => ("吹哨", "whistle"),
            K::ReportIn => ("报到", "report in"),
            K::Supervise => ("督办", "supervise"),
        };
        lang.pick(zh, en)
    }

    /// The request this action files, if it is one.
    pub fn files(self) -> Option<RequestKind> {
        use ActionKind as K;
        Some(match self {
            K::RequestReturn => RequestKind::Return,
            K::RequestExtension => RequestKind::Extension,
            K::RequestSuspension => RequestKind::Suspension,
            K::RequestCancel => RequestKind::Cancel,
            K::SelfHandle => RequestKind::SelfHandling,
            _ => return None,
        })
    }

    /// The request an approve/deny action decides, if it is one.
    pub fn decides(self) -> Option<(RequestKind, bool)> {
        use ActionKind as K;
        Some(match self {
            K::ApproveReturn => (RequestKind::Return, true),
            K::DenyReturn => (RequestKind::Return, false),
            K::ApproveExtension => (RequestKind::Extension, true),
            K::DenyExtension => (RequestKind::Extension, false),
            K::ApproveSuspension => (RequestKind::Suspension, true),
            K::DenySuspension => (RequestKind::Suspension, false),
            K::ApproveCancel => (RequestKind::Cancel, true),
            K::DenyCancel => (RequestKind::Cancel, false),
            K::ApproveSelfHandling => (RequestKind::SelfHandling, true),
            K::DenySelfHandling => (RequestKind::SelfHandling, false),
            _ => return None,
        })
    }
}
