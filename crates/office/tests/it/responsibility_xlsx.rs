//! An administrator exports the demo city's responsibility list to Excel, edits it, and imports it.

use gongzhi_core::Lang;
use gongzhi_core::cases::responsibility::{Departments, ResponsibilityList};
use gongzhi_core::cases::taxonomy::Taxonomy;
use gongzhi_office::{Format, read_rows, write_rows};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn setup() -> (Taxonomy, Departments, ResponsibilityList) {
    let t = Taxonomy::load(
        &read("data/taxonomy/gbt-47678.5-2026.csv"),
        &read("data/taxonomy/local-extensions.csv"),
    )
    .unwrap();
    let d = Departments::load(&read("data/qitaihe/departments.csv")).unwrap();
    let l = ResponsibilityList::from_csv("list.csv", &read("data/qitaihe/responsibility-list.csv"), &t, &d).unwrap();
    (t, d, l)
}

#[test]
fn the_demo_list_survives_an_excel_round_trip() {
    let (t, d, l) = setup();
    let bytes = write_rows(Format::Xlsx, "职责清单", &l.to_rows()).unwrap();
    let rows = read_rows("职责清单.xlsx", &bytes).unwrap();
    assert_eq!(ResponsibilityList::from_rows(&rows, &t, &d).unwrap(), l);
}

#[test]
fn an_edited_sheet_with_mistakes_reports_every_one_by_row_and_column() {
    let (t, d, l) = setup();
    let mut rows = l.to_rows();
    rows[5][8] = "no-such-dept".into(); // row 6 of the sheet
    rows[5][7] = "department".into();
    rows[40][10] = "三天".into(); // row 41
    let bytes = write_rows(Format::Xlsx, "职责清单", &rows).unwrap();
    let errors = ResponsibilityList::from_rows(&read_rows("edited.xlsx", &bytes).unwrap(), &t, &d).unwrap_err();
    let msgs: Vec<String> = errors.iter().map(|e| e.message(Lang::Zh)).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].starts_with("第6行“department”列：未定义的部门"), "{}", msgs[0]);
    assert!(msgs[1].starts_with("第41行“handling_limit”列"), "{}", msgs[1]);
}
