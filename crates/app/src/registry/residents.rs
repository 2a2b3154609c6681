//! Changing the registry's people and seeing them in full: adding a person to a household,
//! editing one, the full view (查看完整信息) and the chiefs of a building. Every full view is
//! recorded (who, when, why, which fields) before anything is shown.

use gongzhi_core::ErrorCode;
use gongzhi_core::people::Actor;
use gongzhi_core::people::registry::{PersonName, Phone, ResidentInput, ResidentRecord, reveal_reason};
use gongzhi_store::StoreError;

use super::places::{readable_building, readable_household};
use super::{EDITORS, READERS, REVEALERS, cipher, field_error, may, may_correct, not_a_revealer};
use crate::{App, AppError};

/// Why a form is opened in full: recorded like a full view.
const EDIT_REASON: &str = "修改登记信息 (edit)";

fn not_an_editor() -> AppError {
    AppError::forbidden(
        "仅网格员、社区工作者、街道工作人员可以登记和修改本辖区的实有人口",
        "only grid workers, community workers and street staff add and edit people in their scope",
    )
}

/// Adds a person to household `household_id`: 422 naming a bad field, 409 when the ID number is
/// registered already.
pub async fn add_resident(app: &App, actor: &Actor, household_id: i64, input: ResidentInput) -> Result<(), AppError> {
    let cipher = cipher(app)?;
    let h = readable_household(app, actor, household_id).await?;
    if !may(actor, &EDITORS, &h.grid_code) {
        return Err(not_an_editor());
    }
    let record = input.validate(h.id).map_err(|e| field_error(&e))?;
    if !app
        .db()
        .resident_ids_by_id_numbers(cipher.as_ref(), std::slice::from_ref(&record.id_number))
        .await?
        .is_empty()
    {
        return Err(AppError::new(
            ErrorCode::DuplicateIdNumber,
            Some("id_number"),
            "字段 id_number（身份证号码）：该身份证号码已登记",
            "field id_number: this ID number is already registered",
        ));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .insert_resident_records(cipher.as_ref(), &key, &actor.account, "form", &[record])
        .await?;
    Ok(())
}

/// A building chief (楼长) or an entrance chief (单元长).
pub struct Chief {
    pub name: PersonName,
    pub phone: Option<Phone>,
}

/// Sets or clears a chief of a building.
pub struct SetChief {
    /// The entrance's number as given (`None` for the building chief).
    pub entrance: Option<String>,
    /// `None` clears it.
    pub chief: Option<Chief>,
}

/// Sets the building chief or an entrance chief (its phone sealed), for those who may correct the
/// building.
pub async fn set_chief(app: &App, actor: &Actor, building_id: i64, cmd: SetChief) -> Result<(), AppError> {
    let cipher = cipher(app)?;
    let b = readable_building(app, actor, building_id).await?;
    if !may_correct(actor, &b.grid_code) {
        return Err(AppError::forbidden(
            "仅本辖区的系统管理员、街道工作人员和社区工作者可以设置楼长、单元长",
            "only system administrators, street staff and community workers of the area set chiefs",
        ));
    }
    let entrance_id = match cmd.entrance {
        None => None,
        Some(n) => {
            let number: i64 = n.parse().unwrap_or(-1);
            let found = app
                .db()
                .entrances_of(b.id)
                .await?
                .into_iter()
                .find(|e| e.number == number);
            Some(
                found
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::UnknownEntrance,
                            Some("entrance"),
                            format!("字段 entrance（单元）：楼栋没有{n}单元"),
                            format!("field entrance: the building has no entrance {n}"),
                        )
                    })?
                    .id,
            )
        }
    };
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .set_chief(
            cipher.as_ref(),
            &key,
            &actor.account,
            b.id,
            entrance_id,
            &b.community_code,
            &b.grid_code,
            cmd.chief.as_ref().map(|c| (&c.name, c.phone.as_ref())),
        )
        .await?;
    Ok(())
}

/// The household of person `id`, if the reader may read them; 404 otherwise.
pub async fn resident_household(app: &App, actor: &Actor, id: i64) -> Result<i64, AppError> {
    let cipher = cipher(app)?;
    match app.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(actor, &READERS, &r.grid_code) => Ok(r.household_id),
        _ => Err(AppError::not_found_path()),
    }
}

/// Person `id` if the actor may edit them: 404 outside their reading scope, 403 for those who may
/// not see them in full (the form shows the values in full).
async fn editable(app: &App, actor: &Actor, id: i64) -> Result<ResidentRecord, AppError> {
    let cipher = cipher(app)?;
    let r = match app.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(actor, &READERS, &r.grid_code) => r,
        _ => return Err(AppError::not_found_path()),
    };
    if !may(actor, &REVEALERS, &r.grid_code) {
        return Err(not_a_revealer());
    }
    Ok(r)
}

/// Person `id` in full for their edit form: a full view, audited like one (reason: editing).
pub async fn open_for_edit(app: &App, actor: &Actor, id: i64) -> Result<ResidentRecord, AppError> {
    let cipher = cipher(app)?;
    editable(app, actor, id).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .reveal_resident(cipher.as_ref(), &key, &actor.account, id, EDIT_REASON)
        .await?
        .ok_or_else(AppError::not_found_path)
}

/// Saves an edit of person `id` opened at `revision`: 422 naming a bad field, 409 when someone
/// changed them meanwhile (nothing changed). Their household.
pub async fn update_resident(
    app: &App,
    actor: &Actor,
    id: i64,
    revision: i64,
    input: ResidentInput,
) -> Result<i64, AppError> {
    let cipher = cipher(app)?;
    let r = editable(app, actor, id).await?;
    let new = input.validate(r.household_id).map_err(|e| field_error(&e))?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .update_resident_record(cipher.as_ref(), &key, &actor.account, id, revision, &new)
        .await
    {
        Ok(_) => Ok(r.household_id),
        Err(StoreError::Conflict { .. }) => Err(AppError::new(
            ErrorCode::Conflict,
            Some("revision"),
            "该人员信息已被他人修改，请重新打开后再改",
            "someone else changed this person meanwhile; open it again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The full view of person `id`: checks role, scope and the stated reason, then records the view
/// and opens the person.
pub async fn reveal(app: &App, actor: &Actor, id: i64, reason: &str) -> Result<ResidentRecord, AppError> {
    let cipher = cipher(app)?;
    let grid = match app.db().resident_record(cipher.as_ref(), id).await? {
        Some(r) if may(actor, &READERS, &r.grid_code) => r.grid_code,
        _ => return Err(AppError::not_found_path()),
    };
    if !may(actor, &REVEALERS, &grid) {
        return Err(not_a_revealer());
    }
    let reason = reveal_reason(reason).map_err(|e| field_error(&e))?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .reveal_resident(cipher.as_ref(), &key, &actor.account, id, &reason)
        .await?
        .ok_or_else(AppError::not_found_path)
}
