//! The error catalogue: every error code the product can answer, with its HTTP status and a
//! title in both languages. A handler or use case names an [`ErrorCode`], never a string, so the
//! codes can be listed (`GET /api/v1/openapi.json` has them as the `ErrorCode` schema) and every
//! one has both texts (tested below). The specific message of one error (naming the field and the
//! value) is the error's own; the title here says what kind of error it is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Lang;

macro_rules! catalogue {
    ($($variant:ident = $code:literal, $status:literal, $zh:literal, $en:literal;)*) => {
        /// A stable, machine-readable error code (snake_case in JSON).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($variant),*
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as clients see it, e.g. `unknown_case`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code),*
                }
            }

            /// The HTTP status the code is answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status),*
                }
            }

            /// What kind of error this is, in `lang`.
            pub const fn title(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::Zh => match self {
                        $(ErrorCode::$variant => $zh),*
                    },
                    Lang::En => match self {
                        $(ErrorCode::$variant => $en),*
                    },
                }
            }
        }
    };
}

catalogue! {
    // Requests and parameters
    MissingParameter = "missing_parameter", 400, "缺少参数", "a parameter is missing";
    NotANumber = "not_a_number", 400, "参数应为数字", "a parameter must be a number";
    NotABoolean = "not_a_boolean", 400, "参数应为是或否", "a parameter must be true or false";
    NotAString = "not_a_string", 400, "参数应为文本", "a parameter must be text";
    InvalidJson = "invalid_json", 400, "请求体不是有效的 JSON", "the request body is not valid JSON";
    UnreadableBody = "unreadable_body", 400, "无法读取请求体", "the request body could not be read";
    BadMultipart = "bad_multipart", 400, "上传表单格式错误", "the upload is not a valid multipart form";
    MissingFile = "missing_file", 400, "缺少上传文件", "the uploaded file is missing";
    UnsupportedFormat = "unsupported_format", 400, "不支持的格式", "unsupported format";
    TooLarge = "too_large", 413, "内容过大", "too large";
    InvalidPage = "invalid_page", 400, "页码无效", "invalid page";
    InvalidLimit = "invalid_limit", 400, "每页条数无效", "invalid page size";
    InvalidSort = "invalid_sort", 400, "排序方式无效", "invalid sort order";
    InvalidDate = "invalid_date", 400, "日期无效", "invalid date";
    InvalidDateRange = "invalid_date_range", 400, "日期范围无效", "invalid date range";
    DateRangeTooLong = "date_range_too_long", 400, "日期范围过长", "the date range is too long";
    InvalidField = "invalid_field", 422, "字段无效", "a field is invalid";
    UnknownField = "unknown_field", 422, "未知字段", "unknown field";
    InvalidName = "invalid_name", 400, "名称无效", "invalid name";
    InvalidFile = "invalid_file", 422, "文件无效", "invalid file";
    InvalidIdempotencyKey = "invalid_idempotency_key", 400, "幂等键无效", "invalid idempotency key";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "幂等键已用于另一请求", "the idempotency key was used for another request";
    NotJson = "not_json", 415, "请求体应为 JSON（Content-Type: application/json）", "the body must be JSON (Content-Type: application/json)";
    InvalidText = "invalid_text", 400, "文本含有不允许的字符", "the text holds characters that are not allowed";
    NotFound = "not_found", 404, "页面不存在", "no such page";
    // Sign-in, roles and scope
    Unauthenticated = "unauthenticated", 401, "请先登录", "sign in first";
    InvalidCredentials = "invalid_credentials", 401, "用户名或密码错误", "wrong username or password";
    AccountLocked = "account_locked", 403, "登录失败次数过多，已锁定", "locked after too many failed sign-ins";
    PasswordChangeRequired = "password_change_required", 403, "请先修改密码", "the password must be changed first";
    AdminNetworkRefused = "admin_network_refused", 403, "管理员不得从此网络地址登录", "administrators may not work from this network address";
    InvalidToken = "invalid_token", 401, "令牌无效或已过期", "the token is invalid or expired";
    UnknownToken = "unknown_token", 404, "令牌不存在", "no such token";
    Forbidden = "forbidden", 403, "无权进行此操作", "not allowed";
    OutsideScope = "outside_scope", 403, "超出管辖范围", "outside your area";
    CsrfMismatch = "csrf_mismatch", 403, "表单已失效，请刷新后重试", "the form expired; reload and try again";
    MissingApiKey = "missing_api_key", 403, "缺少接口密钥", "the API key is missing";
    InvalidApiKey = "invalid_api_key", 403, "接口密钥无效", "invalid API key";
    UnknownApiKey = "unknown_api_key", 404, "接口密钥不存在", "no such API key";
    OutsideKeyScope = "outside_key_scope", 403, "超出接口密钥的范围", "outside the API key's scope";
    CallNotAllowed = "call_not_allowed", 403, "接口密钥不允许此调用", "the API key does not allow this call";
    InvalidCalls = "invalid_calls", 400, "允许的调用无效", "invalid allowed calls";
    InvalidRate = "invalid_rate", 400, "速率限制无效", "invalid rate limit";
    RateLimited = "rate_limited", 429, "请求过于频繁", "too many requests";
    UnknownAccount = "unknown_account", 404, "账号不存在", "no such account";
    NameTaken = "name_taken", 409, "名称已被使用", "the name is taken";
    AdminRolesConflict = "admin_roles_conflict", 422, "三员角色不得兼任", "administrator roles may not be combined";
    PersonalDataGrantRefused = "personal_data_grant_refused", 422, "不能授予个人信息权限", "the personal-data permission may not be granted";
    PersonalDataHolderReset = "personal_data_holder_reset", 409, "持有个人信息权限的账户不能重置密码", "the password of a personal-data permission holder cannot be reset";
    PasswordTooShort = "password_too_short", 422, "密码过短", "the password is too short";
    PasswordTooSimple = "password_too_simple", 422, "密码过于简单", "the password is too simple";
    PasswordContainsUsername = "password_contains_username", 422, "密码不得包含用户名", "the password contains the username";
    PasswordUnchanged = "password_unchanged", 422, "新密码不得与旧密码相同", "the new password equals the old one";
    InvalidPhone = "invalid_phone", 422, "手机号码无效", "invalid phone number";
    CodeTooSoon = "code_too_soon", 429, "验证码发送过于频繁", "a code was sent too recently";
    CodeNotSent = "code_not_sent", 422, "尚未发送验证码", "no code was sent";
    CodeExpired = "code_expired", 422, "验证码已过期", "the code expired";
    CodeAttemptsExceeded = "code_attempts_exceeded", 429, "验证码尝试次数过多", "too many attempts";
    CodeWrong = "code_wrong", 422, "验证码错误", "wrong code";
    CodeMalformed = "code_malformed", 422, "验证码格式错误", "the code is malformed";
    SmsFailed = "sms_failed", 502, "短信发送失败", "the text message could not be sent";
    // Territory
    InvalidCode = "invalid_code", 400, "代码无效", "invalid code";
    UnknownNode = "unknown_node", 404, "区划或网格不存在", "no such division or grid";
    InvalidDatum = "invalid_datum", 400, "坐标系无效", "invalid datum";
    CoordinateOutOfRange = "coordinate_out_of_range", 400, "坐标超出范围", "coordinate out of range";
    InvalidGeojson = "invalid_geojson", 422, "GeoJSON 无效", "invalid GeoJSON";
    OutsideGrids = "outside_grids", 404, "该位置不在任何网格内", "no grid at that place";
    PlaceOutsideGrids = "place_outside_grids", 422, "报告的位置不在任何网格内", "the reported place is in no grid";
    InvalidPoint = "invalid_point", 422, "位置无效", "invalid place";
    AddressAmbiguous = "address_ambiguous", 422, "地址对应多个社区", "the address names more than one community";
    AddressNotPlaced = "address_not_placed", 422, "无法根据地址确定位置", "the address could not be placed";
    MissingLocation = "missing_location", 400, "缺少位置", "the place is missing";
    // Cases
    UnknownCase = "unknown_case", 404, "案件不存在", "no such case";
    InvalidCaseNumber = "invalid_case_number", 400, "案件编号无效", "invalid case number";
    InvalidMatter = "invalid_matter", 400, "事项类型无效", "invalid matter";
    DescriptionTooLong = "description_too_long", 400, "描述过长", "the description is too long";
    UnknownMatter = "unknown_matter", 404, "事项类型不存在", "no such matter";
    InvalidChannel = "invalid_channel", 400, "来源渠道无效", "invalid channel";
    InvalidState = "invalid_state", 400, "状态无效", "invalid state";
    InvalidUnit = "invalid_unit", 400, "处置单位无效", "invalid unit";
    InvalidAction = "invalid_action", 400, "操作无效", "invalid action";
    UnknownInbox = "unknown_inbox", 404, "待办箱不存在", "no such inbox";
    CaseChanged = "case_changed", 409, "案件已被他人更改，请刷新", "the case changed meanwhile; reload";
    BadMergeTarget = "bad_merge_target", 422, "合并目标无效", "invalid merge target";
    CorruptCase = "corrupt_case", 500, "案件记录损坏", "the case record is damaged";
    MissingPhotos = "missing_photos", 422, "缺少照片", "photos are missing";
    TooManyPhotos = "too_many_photos", 400, "照片过多", "too many photos";
    UnknownPatrol = "unknown_patrol", 404, "巡查不存在", "no such patrol";
    PatrolEnded = "patrol_ended", 409, "巡查已结束", "the patrol has ended";
    CaseWrongState = "case_wrong_state", 409, "案件当前状态不允许此操作", "the case's state does not allow this";
    CaseNotPermitted = "case_not_permitted", 403, "无权对此案件进行此操作", "not allowed on this case";
    NotACaseWorker = "not_a_case_worker", 403, "该账户不办理案件", "this account does not work on cases";
    ChannelNotAllowed = "channel_not_allowed", 403, "无权通过此渠道上报", "not allowed to report through this channel";
    CaseOwnWork = "case_own_work", 403, "不得核查自己的工作", "one may not check one's own work";
    CaseMissingReason = "case_missing_reason", 422, "缺少理由", "a reason is missing";
    CaseMissingPhotos = "case_missing_photos", 422, "缺少照片", "photos are missing";
    CaseMissingResult = "case_missing_result", 422, "缺少处置结果", "the result is missing";
    CaseNoPendingRequest = "case_no_pending_request", 422, "没有待审批的申请", "no request is pending";
    CaseRequestPending = "case_request_pending", 422, "已有待审批的申请", "a request is already pending";
    CaseBadExtension = "case_bad_extension", 422, "延期时长无效", "invalid extension";
    CaseBadHandlers = "case_bad_handlers", 422, "协办单位无效", "invalid co-handlers";
    CaseMergeIntoSelf = "case_merge_into_self", 422, "不能合并到自身", "a case cannot merge into itself";
    CaseBadSummons = "case_bad_summons", 422, "吹哨部门无效", "invalid summons";
    CaseReportInInPast = "case_report_in_in_past", 422, "报到时限已过", "the report-in time is past";
    CaseNotSummoned = "case_not_summoned", 422, "该部门未被吹哨", "the department was not summoned";
    CaseSupervisionLowered = "case_supervision_lowered", 422, "督办级别不能降低", "supervision cannot be lowered";
    CaseBadFollowUp = "case_bad_follow_up", 422, "回访结果无效", "invalid follow-up";
    CaseFollowUpDone = "case_follow_up_done", 422, "已回访", "the follow-up is done";
    CaseOutsideReopenWindow = "case_outside_reopen_window", 422, "已超过重新打开的期限", "too late to reopen";
    CaseNotUnsettled = "case_not_unsettled", 422, "案件未被评为不满意或未解决", "the case was not rated unsettled";
    InvalidCasePolicy = "invalid_case_policy", 422, "案件规则无效", "invalid case policy";
    // Attachments
    UnknownAttachment = "unknown_attachment", 404, "附件不存在", "no such attachment";
    UnknownPhoto = "unknown_photo", 400, "请求中的照片未上传", "a photo named in the request was not uploaded";
    InvalidAttachmentId = "invalid_attachment_id", 400, "附件编号无效", "invalid attachment id";
    AttachmentsUnavailable = "attachments_unavailable", 503, "未配置附件存储", "no attachment storage";
    EmptyFile = "empty_file", 400, "文件为空", "the file is empty";
    FileTooLarge = "file_too_large", 413, "文件过大", "the file is too large";
    UnsupportedMediaType = "unsupported_media_type", 415, "不支持的文件类型", "unsupported file type";
    DamagedImage = "damaged_image", 400, "图片已损坏", "the image is damaged";
    ImageTooLarge = "image_too_large", 413, "图片尺寸过大", "the image has too many pixels";
    // Open311
    UnknownService = "unknown_service", 404, "服务不存在", "no such service";
    InvalidServiceCode = "invalid_service_code", 400, "服务代码无效", "invalid service code";
    UnknownServiceRequest = "unknown_service_request", 404, "服务请求不存在", "no such service request";
    InvalidServiceRequestId = "invalid_service_request_id", 400, "服务请求编号无效", "invalid service request id";
    InvalidAttribute = "invalid_attribute", 400, "属性无效", "invalid attribute";
    InvalidStatus = "invalid_status", 400, "状态无效", "invalid status";
    InvalidExtension = "invalid_extension", 400, "扩展参数无效", "invalid extension";
    UnknownChange = "unknown_change", 400, "未知的变更", "unknown change";
    // Rules and data files
    InvalidData = "invalid_data", 422, "数据无效", "invalid data";
    InvalidDataFile = "invalid_data_file", 422, "数据文件无效", "invalid data file";
    UnknownVersion = "unknown_version", 404, "版本不存在", "no such version";
    // Registry and import
    UnknownTemplate = "unknown_template", 404, "模板不存在", "no such template";
    UnknownJob = "unknown_job", 404, "导入任务不存在", "no such import";
    UnknownEntrance = "unknown_entrance", 422, "单元不存在", "no such entrance";
    DuplicateIdNumber = "duplicate_id_number", 409, "身份证号码已登记", "the ID number is registered";
    MissingField = "missing_field", 422, "缺少字段", "a field is missing";
    TooLong = "too_long", 422, "内容过长", "too long";
    UnknownValue = "unknown_value", 422, "取值不在列表中", "the value is not in the list";
    InvalidNumber = "invalid_number", 422, "数字无效", "invalid number";
    InvalidIdNumber = "invalid_id_number", 422, "身份证号码无效", "invalid ID number";
    InvalidBirthDate = "invalid_birth_date", 422, "出生日期无效", "invalid birth date";
    BadCheckCharacter = "bad_check_character", 422, "校验码错误", "wrong check character";
    InvalidCreditCode = "invalid_credit_code", 422, "统一社会信用代码无效", "invalid credit code";
    BadOrganizationCheck = "bad_organization_check", 422, "组织机构代码校验码错误", "wrong organization check character";
    ExportTooLarge = "export_too_large", 422, "导出的记录过多", "too many records to export";
    ExportFailed = "export_failed", 500, "导出失败", "the export failed";
    PersonalDataKeyMissing = "personal_data_key_missing", 503, "未配置个人信息密钥", "no personal-data key";
    // Co-governance
    WrongOrderState = "wrong_order_state", 409, "需求当前状态不允许此操作", "the need's state does not allow this";
    WrongAgendaState = "wrong_agenda_state", 409, "议题当前状态不允许此操作", "the agenda item's state does not allow this";
    WrongMeetingState = "wrong_meeting_state", 409, "会议当前状态不允许此操作", "the meeting's state does not allow this";
    WrongAgreementState = "wrong_agreement_state", 409, "共建协议当前状态不允许此操作", "the agreement's state does not allow this";
    // Audit
    AuditKeyMissing = "audit_key_missing", 503, "未配置审计密钥", "no audit key";
    AuditFailed = "audit_failed", 500, "审计记录失败", "the audit record failed";
    InvalidAuditKey = "invalid_audit_key", 500, "审计密钥无效", "invalid audit key";
    InvalidAuditEntry = "invalid_audit_entry", 500, "审计记录无效", "invalid audit entry";
    // Why an audit chain is broken (answered inside a verification, not as an error status)
    SeqGap = "seq_gap", 500, "审计记录序号缺失", "a sequence number is missing";
    PrevMacMismatch = "prev_mac_mismatch", 500, "审计记录链接不符", "an entry's link does not match";
    MacMismatch = "mac_mismatch", 500, "审计记录校验码不符", "an entry's MAC does not match";
    Malformed = "malformed", 500, "审计记录格式错误", "an entry is malformed";
    Truncated = "truncated", 500, "审计记录被截断", "the record is truncated";
    HeadMismatch = "head_mismatch", 500, "审计记录链头不符", "the chain head does not match";
    BehindCheckpoint = "behind_checkpoint", 500, "审计记录短于检查点", "the record ends before its checkpoint";
    CheckpointMismatch = "checkpoint_mismatch", 500, "审计记录与检查点不符", "the record differs from its checkpoint";
    CheckpointInvalid = "checkpoint_invalid", 500, "审计检查点不可信", "the checkpoint cannot be trusted";
    TableMissing = "table_missing", 500, "审计记录数据表不存在", "a table of the record is missing";
    CheckpointFailed = "checkpoint_failed", 500, "审计检查点写入失败", "the checkpoint could not be written";
    // Ours
    Conflict = "conflict", 409, "数据已被更改，请刷新后重试", "changed meanwhile; reload and try again";
    StorageUnavailable = "storage_unavailable", 503, "存储暂不可用，请稍后重试", "storage is unavailable; try again later";
    Internal = "internal", 500, "服务器内部错误", "internal error";
}

impl ErrorCode {
    /// The code of `text`, when the catalogue has it.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::parse(s).ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_snake_case_with_both_titles_and_a_client_or_server_status() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text} is not snake_case"
            );
            assert!((400..600).contains(&code.status()), "{text}: status {}", code.status());
            let zh = code.title(Lang::Zh);
            let en = code.title(Lang::En);
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{text}: {zh}"
            );
            assert!(!en.is_empty() && en.is_ascii(), "{text}: {en}");
            assert_eq!(ErrorCode::parse(text), Some(*code));
        }
    }

    #[test]
    fn codes_serialize_as_their_text() {
        assert_eq!(
            serde_json::to_string(&ErrorCode::UnknownCase).unwrap(),
            "\"unknown_case\""
        );
        let back: ErrorCode = serde_json::from_str("\"case_wrong_state\"").unwrap();
        assert_eq!(back, ErrorCode::CaseWrongState);
        assert!(serde_json::from_str::<ErrorCode>("\"made_up\"").is_err());
    }
}
