//! Co-building agreements (共建协议) between a community and a member organization of the
//! registry: signed ([`sign`]) with a term, commitments under the city's mechanisms
//! (`data/qitaihe/co-building.toml`), cross-appointments and talent pairings; renewed by a new
//! agreement that `renews` it ([`renew`]); ended with a reason ([`end`]); and what was done under
//! each commitment recorded ([`record`]).
//!
//! Who: the community's workers and street staff over it write ([`super::serves`]); leaders over
//! it read; anyone else is refused (403), and so is another community's agreement (403; an
//! unknown one is 404).

use std::sync::LazyLock;

use chrono::Utc;
use gongzhi_core::cogov::agreements::{
    AgreementDraft, AgreementState, AgreementStep, Appointment, CoBuildingRules, Commitment, Pairing, RecordDraft,
    Standing, Terms, WrongAgreementState, check_renewal, end_reason,
};
use gongzhi_core::people::{Actor, Role};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::{ErrorCode, Lang};
use gongzhi_store::StoreError;

use super::{is_staff, serves};
use crate::{App, AppError};

pub use gongzhi_store::cogov::agreements::{
    Agreement, AgreementRecord, StoredAppointment, StoredCommitment, StoredPairing,
};

/// The city's mechanisms of co-building.
pub static CO_BUILDING: LazyLock<CoBuildingRules> =
    LazyLock::new(|| CoBuildingRules::qitaihe().expect("data/qitaihe/co-building.toml is shipped valid"));

/// Who reads agreements besides those who write them, over the community.
pub const READERS: [Role; 3] = [Role::CommunityWorker, Role::StreetStaff, Role::Leader];

/// Whether `actor` writes the agreements of `community`.
pub fn may_write(actor: &Actor, community: &str) -> bool {
    serves(actor, community)
}

/// Whether `actor` reads the agreements of `community`.
pub fn may_read(actor: &Actor, community: &str) -> bool {
    TerritoryCode::parse(community).is_ok_and(|code| READERS.iter().any(|r| actor.has_role_over(*r, &code)))
}

/// Whether `actor` reads some agreements.
pub fn is_reader(actor: &Actor) -> bool {
    READERS.iter().any(|r| actor.has_role(*r))
}

/// Whether `actor` writes some agreements.
pub fn is_writer(actor: &Actor) -> bool {
    is_staff(actor)
}

/// Refused: not of this community's staff (or its leaders, to read).
pub fn not_in_reach() -> AppError {
    AppError::forbidden(
        "仅本社区的社区工作者、所属街道工作人员可以签订和管理共建协议（上级领导可以查看）",
        "only the community's workers and its street's staff sign and manage its co-building agreements (leaders over it read them)",
    )
}

fn invalid(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField, Some(field), zh, en)
}

fn wrong_state(e: WrongAgreementState) -> AppError {
    AppError::new(
        ErrorCode::WrongAgreementState,
        Some("state"),
        e.message(Lang::Zh),
        e.message(Lang::En),
    )
}

/// The 409 of a step refused by the store (the agreement moved meanwhile).
async fn moved(app: &App, id: i64, was: AgreementState, step: AgreementStep) -> Result<AppError, AppError> {
    let now = app.db().agreement(id).await?.map_or(was, |a| a.state);
    let from = if now == AgreementState::Active { was } else { now };
    Ok(wrong_state(WrongAgreementState { from, step }))
}

fn audit_key(app: &App) -> Result<std::sync::Arc<gongzhi_core::audit::AuditKey>, AppError> {
    app.audit_key().ok_or_else(AppError::audit_key_missing)
}

fn today() -> chrono::NaiveDate {
    gongzhi_core::time::city_time(Utc::now()).date_naive()
}

/// The term and lists of an agreement as typed.
#[derive(Debug, Clone, Default)]
pub struct TermsInput {
    pub term_from: String,
    pub term_to: String,
    pub commitments: Vec<Commitment>,
    pub appointments: Vec<Appointment>,
    pub pairings: Vec<Pairing>,
}

impl TermsInput {
    fn check(&self) -> Result<Terms, gongzhi_core::cogov::DraftProblem> {
        Terms::check(
            &CO_BUILDING,
            &self.term_from,
            &self.term_to,
            &self.commitments,
            &self.appointments,
            &self.pairings,
        )
    }
}

/// An agreement as signed: the community, the member organization's registry id, the terms.
#[derive(Debug, Clone, Default)]
pub struct NewAgreement {
    pub community: String,
    pub organization: String,
    pub terms: TermsInput,
}

/// Signs an agreement of a community `actor` serves with a member organization (audited); its
/// id. Refused: a bad field (422 naming it), a community out of reach (403), an organization the
/// registry does not have (422 `organization`).
pub async fn sign(app: &App, actor: &Actor, cmd: NewAgreement) -> Result<i64, AppError> {
    if !is_writer(actor) {
        return Err(not_in_reach());
    }
    let draft = AgreementDraft::check(&cmd.community, &cmd.organization, cmd.terms.check()).map_err(AppError::draft)?;
    let community = draft.community.as_str();
    if !app.index().communities().any(|l| l.community.code == community) {
        return Err(invalid(
            "community",
            format!("社区 {community} 不存在（community）"),
            format!("no community has code {community} (community)"),
        ));
    }
    if !may_write(actor, community) {
        return Err(not_in_reach());
    }
    let name = organization_name(app, draft.organization).await?;
    let key = audit_key(app)?;
    Ok(app
        .db()
        .sign_agreement(
            community,
            draft.organization,
            &name,
            &draft.terms,
            &actor.account,
            Utc::now(),
            &key,
        )
        .await?)
}

/// The registry's name of a member organization, or 422 naming `organization`.
async fn organization_name(app: &App, id: i64) -> Result<String, AppError> {
    app.db()
        .seat_org_name(gongzhi_core::cogov::meetings::SeatOrgKind::MemberOrganization, id)
        .await?
        .ok_or_else(|| {
            invalid(
                "organization",
                format!("辖区单位 {id} 不存在（organization）"),
                format!("no member organization has id {id} (organization)"),
            )
        })
}

/// The agreements `actor` reads, newest first, of one community (`community`, when given) or
/// of all in reach.
pub async fn agreements(app: &App, actor: &Actor, community: Option<&str>) -> Result<Vec<Agreement>, AppError> {
    if !is_reader(actor) {
        return Err(not_in_reach());
    }
    let community = community.map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = community
        && !may_read(actor, c)
    {
        return Err(not_in_reach());
    }
    Ok(app
        .db()
        .agreements(community)
        .await?
        .into_iter()
        .filter(|a| may_read(actor, &a.community_code))
        .collect())
}

/// An agreement `actor` may read (404 unknown, 403 out of reach).
pub async fn readable(app: &App, actor: &Actor, id: i64) -> Result<Agreement, AppError> {
    let a = app.db().agreement(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_read(actor, &a.community_code) {
        return Err(not_in_reach());
    }
    Ok(a)
}

/// An agreement `actor` writes (404 unknown, 403 out of reach).
pub async fn writable(app: &App, actor: &Actor, id: i64) -> Result<Agreement, AppError> {
    let a = app.db().agreement(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_write(actor, &a.community_code) {
        return Err(not_in_reach());
    }
    Ok(a)
}

/// An agreement with its lists, records and links.
pub struct AgreementView {
    pub agreement: Agreement,
    pub standing: Standing,
    pub commitments: Vec<StoredCommitment>,
    pub appointments: Vec<StoredAppointment>,
    pub pairings: Vec<StoredPairing>,
    pub records: Vec<AgreementRecord>,
    /// The agreement that renews this one.
    pub renewed_by: Option<i64>,
    pub writable: bool,
}

pub async fn agreement(app: &App, actor: &Actor, id: i64) -> Result<AgreementView, AppError> {
    let agreement = readable(app, actor, id).await?;
    let db = app.db();
    Ok(AgreementView {
        standing: agreement.state.standing(agreement.term_to, today()),
        commitments: db.commitments_of(id).await?,
        appointments: db.appointments_of(id).await?,
        pairings: db.pairings_of(id).await?,
        records: db.agreement_records(id).await?,
        renewed_by: db.agreement_renewed_by(id).await?,
        writable: may_write(actor, &agreement.community_code),
        agreement,
    })
}

/// Renews an active agreement `actor` writes: a new agreement of the same community and
/// organization with the new term (past the old term's end) and lists; empty lists carry the
/// old agreement's over. Audited; the new id. Refused: a bad field (422), not active (409).
pub async fn renew(app: &App, actor: &Actor, id: i64, mut cmd: TermsInput) -> Result<i64, AppError> {
    let old = writable(app, actor, id).await?;
    old.state.apply(AgreementStep::Renew).map_err(wrong_state)?;
    let db = app.db();
    if cmd.commitments.is_empty() {
        cmd.commitments = db
            .commitments_of(id)
            .await?
            .into_iter()
            .map(|c| Commitment {
                mechanism: c.mechanism,
                text: c.body,
            })
            .collect();
    }
    if cmd.appointments.is_empty() {
        cmd.appointments = db
            .appointments_of(id)
            .await?
            .into_iter()
            .map(|a| Appointment {
                person: a.person,
                organization_post: a.organization_post,
                community_post: a.community_post,
            })
            .collect();
    }
    if cmd.pairings.is_empty() {
        cmd.pairings = db
            .pairings_of(id)
            .await?
            .into_iter()
            .map(|p| Pairing {
                first: p.first_person,
                second: p.second_person,
                subject: p.subject,
            })
            .collect();
    }
    let terms = cmd.check().map_err(AppError::draft)?;
    check_renewal(old.term_to, &terms).map_err(AppError::draft)?;
    let key = audit_key(app)?;
    match db.renew_agreement(&old, &terms, &actor.account, Utc::now(), &key).await {
        Ok(new) => Ok(new),
        Err(StoreError::Conflict { .. }) => Err(moved(app, id, old.state, AgreementStep::Renew).await?),
        Err(e) => Err(e.into()),
    }
}

/// Ends an active agreement `actor` writes, with a reason (audited). Refused: no reason (422),
/// not active (409).
pub async fn end(app: &App, actor: &Actor, id: i64, reason: &str) -> Result<(), AppError> {
    let a = writable(app, actor, id).await?;
    a.state.apply(AgreementStep::End).map_err(wrong_state)?;
    let reason = end_reason(reason).map_err(AppError::draft)?;
    let key = audit_key(app)?;
    match app
        .db()
        .end_agreement(id, &reason, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(moved(app, id, a.state, AgreementStep::End).await?),
        Err(e) => Err(e.into()),
    }
}

/// A record as typed: the commitment's id, the date, what was done, people served (optional).
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    pub commitment: String,
    pub date: String,
    pub text: String,
    pub people: String,
}

/// Records what was done under a commitment of an active agreement `actor` writes (audited);
/// the record's id. Refused: a commitment not of this agreement (422 `commitment`), a bad field
/// (422), not active (409).
pub async fn record(app: &App, actor: &Actor, id: i64, cmd: NewRecord) -> Result<i64, AppError> {
    let a = writable(app, actor, id).await?;
    a.state.apply(AgreementStep::Record).map_err(wrong_state)?;
    let commitments = app.db().commitments_of(id).await?;
    let wanted = cmd.commitment.trim();
    let commitment = wanted
        .parse::<i64>()
        .ok()
        .and_then(|c| commitments.into_iter().find(|x| x.id == c))
        .ok_or_else(|| {
            invalid(
                "commitment",
                format!("承诺 {wanted} 不是本协议的承诺（commitment）"),
                format!("{wanted:?} is not a commitment of this agreement (commitment)"),
            )
        })?;
    let draft = RecordDraft::check(&cmd.date, &cmd.text, &cmd.people, a.term_from, a.term_to, today())
        .map_err(AppError::draft)?;
    let key = audit_key(app)?;
    match app
        .db()
        .record_under_commitment(&commitment, &draft, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(r) => Ok(r),
        Err(StoreError::Conflict { .. }) => Err(moved(app, id, a.state, AgreementStep::Record).await?),
        Err(e) => Err(e.into()),
    }
}

/// The communities `actor` signs agreements for: (code, name), by code.
pub fn communities_served(app: &App, actor: &Actor) -> Vec<(String, String)> {
    super::places_served(app, actor)
        .into_iter()
        .filter(|p| p.grid.is_none())
        .map(|p| (p.code, p.label))
        .collect()
}

/// The member organizations of the streets of the communities `actor` serves, for the form
/// that signs an agreement (the API takes any organization of the registry by id).
pub async fn organizations_near(
    app: &App,
    actor: &Actor,
) -> Result<Vec<gongzhi_core::orgs::registry::MemberOrganization>, AppError> {
    let mut streets: Vec<String> = communities_served(app, actor)
        .into_iter()
        .map(|(code, _)| code[..9.min(code.len())].to_string())
        .collect();
    streets.sort();
    streets.dedup();
    let mut out = Vec::new();
    for s in streets {
        out.extend(app.db().member_organizations_within(&s).await?);
    }
    Ok(out)
}
