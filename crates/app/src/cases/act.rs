//! Acting on a case: the one path of every transition of the loop (the JSON API, the case page's
//! forms, the grid worker's phone, a resident's rating, Open311), through the core's state
//! machine. Nothing changes on error.

use chrono::Utc;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{Action, ActionKind, Event, FlowContext, FlowError, apply};
use gongzhi_core::people::Actor;
use gongzhi_core::{ErrorCode, Lang, Localized};
use gongzhi_store::StoreError;
use gongzhi_store::cases::CaseRecord;
use serde_json::Value;

use super::{can_see, publish, visible_case};
use crate::{App, AppError};

/// What an action did: the case as it is now, and the timeline entry it added.
#[derive(Debug, Clone)]
pub struct Acted {
    pub record: CaseRecord,
    pub event: Event,
}

/// An action as a client sends it (`{"action": …, …}`), or a 400 that lists the actions.
pub fn parse_action(raw: Value) -> Result<Action, AppError> {
    serde_json::from_value(raw).map_err(|e| {
        let kinds = ActionKind::ALL.map(|k| k.as_str()).join(", ");
        AppError::new(
            ErrorCode::InvalidAction,
            Some("action"),
            format!("动作无效：{e}（动作为 {kinds} 之一，附所需字段）"),
            format!("invalid action: {e} (actions: {kinds}, with their fields)"),
        )
    })
}

/// A refusal of the state machine, naming the form field it is about so a page can point at it.
pub fn flow_error(e: FlowError) -> AppError {
    let field = match &e {
        FlowError::MissingReason { .. } => Some("reason"),
        FlowError::MissingPhotos { .. } => Some("photos"),
        FlowError::MissingResult => Some("result"),
        FlowError::BadExtension => Some("extend_by"),
        FlowError::BadHandlers => Some("co_handlers"),
        FlowError::BadSummons => Some("departments"),
        FlowError::ReportInInPast => Some("report_in_by"),
        FlowError::NotSummoned { .. } => Some("department"),
        FlowError::SupervisionLowered { .. } => Some("level"),
        FlowError::BadFollowUp => Some("satisfaction"),
        _ => None,
    };
    AppError::new(e.code(), field, e.message(Lang::Zh), e.message(Lang::En))
}

/// The photo ids an action carries.
fn photos_of(action: &Action) -> &[String] {
    match action {
        Action::Verified { photos, .. }
        | Action::SelfHandle { photos, .. }
        | Action::ReportBack { photos, .. }
        | Action::CheckPass { photos }
        | Action::CheckFail { photos, .. } => photos,
        _ => &[],
    }
}

/// Every photo an action names must be a stored attachment the actor may read (they uploaded it,
/// or it is on a case they may see): an id alone proves nothing, ids being sequential.
async fn check_photos(app: &App, actor: &Actor, action: &Action) -> Result<(), AppError> {
    for text in photos_of(action) {
        let known = match text.parse::<i64>() {
            Ok(n) => super::attachment::may_read(app, actor, AttachmentId(n)).await?,
            Err(_) => false,
        };
        if !known {
            return Err(AppError::new(
                ErrorCode::UnknownPhoto,
                Some("photos"),
                format!("照片 {text} 不存在：请先上传到 /api/v1/attachments"),
                format!("photo {text} does not exist: upload it to /api/v1/attachments first"),
            ));
        }
    }
    Ok(())
}

/// Whether the rules would let `actor` do `action` on the case now, changing nothing (the pages
/// ask before storing a form's photos; photo ids and merge targets are checked by [`perform`]).
pub fn check_action(app: &App, actor: &Actor, record: &CaseRecord, action: Action) -> Result<(), AppError> {
    let rules = app.rules();
    let ctx = FlowContext {
        policy: &rules.policy,
        clock: &rules.calendar,
    };
    apply(&record.flow, action, actor, Utc::now(), &ctx)
        .map(|_| ())
        .map_err(flow_error)
}

/// `actor` does `action` on the case `id` (its id or 13-digit number) if they may see it.
pub async fn act(app: &App, actor: &Actor, id: &str, action: Action) -> Result<Acted, AppError> {
    app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let record = visible_case(app, actor, id).await?;
    perform(app, actor, record, action).await
}

/// `actor` does `action` on a case the door already found for them (a case they may see, or a
/// resident's own report).
pub async fn perform(app: &App, actor: &Actor, record: CaseRecord, action: Action) -> Result<Acted, AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    check_photos(app, actor, &action).await?;
    if let Action::MergeInto { parent, .. } = &action {
        let target = app.db().case_by_number(parent).await?;
        match target {
            // A case one may not see is no target either (and is refused in the same words, so
            // the answer does not tell that it exists).
            Some(t) if t.flow.state.is_open() && t.flow.matter == record.flow.matter && can_see(actor, &t.flow) => {}
            _ => {
                return Err(AppError::new(
                    ErrorCode::BadMergeTarget,
                    Some("parent"),
                    format!("只能合并到同一事项的未办结案件，{parent} 不符合"),
                    format!("a case merges only into an open case of the same matter; {parent} is not one"),
                ));
            }
        }
    }
    let rules = app.rules();
    let now = Utc::now();
    // The context borrows a `dyn WorkClock`, which is not `Send`: keep it out of the awaits.
    let applied = {
        let ctx = FlowContext {
            policy: &rules.policy,
            clock: &rules.calendar,
        };
        apply(&record.flow, action, actor, now, &ctx).map_err(flow_error)?
    };
    app.db()
        .record_action(record.id, &applied, now, &audit_key)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::new(
                ErrorCode::CaseChanged,
                None,
                "案件刚被他人处理，请刷新后重试",
                "the case was just changed by someone else; reload and try again",
            ),
            other => other.into(),
        })?;
    let updated = app.db().case_by_id(record.id).await?.unwrap_or(record);
    publish(app, &updated, applied.event.kind.as_str());
    // A joint meeting's case: its agenda item is done when its last case closes.
    if let Err(e) = crate::cogov::meetings::case_closed(app, &updated, &actor.account).await {
        tracing::error!(case = updated.id, error = %e.message(gongzhi_core::Lang::En), "completing the agenda item of a closed case");
    }
    // A published need's case: the need follows it.
    if let Err(e) = crate::cogov::orders::case_changed(app, &updated, &actor.account).await {
        tracing::error!(case = updated.id, error = %e.message(gongzhi_core::Lang::En), "following a need's case");
    }
    Ok(Acted {
        record: updated,
        event: applied.event,
    })
}
