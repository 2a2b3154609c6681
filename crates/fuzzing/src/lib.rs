//! The bodies of the fuzz targets in `fuzz/` (run with `cargo fuzz`, see docs/SECURITY.md
//! "Fuzzing"): one plain function per parser of outside input, taking the raw bytes a client or a
//! file could send. Each must return for every input; a panic (an index out of range, an overflow,
//! an allocation a file chose) is a finding. The same functions run under `cargo test` over the
//! committed seed corpus (`fuzz/corpus/<target>/`) and a few thousand random and mutated inputs,
//! so CI exercises every target on the stable toolchain.
//!
//! Where a parser's result has a property that must hold (a mask keeps the length, a parsed
//! number parses again to itself), the body asserts it too.

use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use chrono::{DateTime, TimeZone, Utc};
use gongzhi_app::TerritoryIndex;
use gongzhi_app::cases::{RawReport, Report};
use gongzhi_app::people::{api_keys::NewKey, tokens::SignIn};
use gongzhi_app::registry::export::UnmaskedExport;
use gongzhi_app::registry::import::read_only;
use gongzhi_core::cases::attachment::{AttachmentLimits, MediaType, check_upload, public_copy};
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::import::Reach;
use gongzhi_core::import::Template;
use gongzhi_core::import::registry::ALL;
use gongzhi_core::orgs::CreditCode;
use gongzhi_core::people::id_number::IdNumber;
use gongzhi_core::people::masking::{mask_email, mask_numbers, mask_phone};
use gongzhi_core::people::registry::{IdMaskPolicy, PersonName, Phone, mask_name};
use gongzhi_core::people::resident;
use gongzhi_core::territory::GridIndex;
use gongzhi_web::cases::open311::{Params, new_request, read_form, request_query};

/// Every target by the name of its folder under `fuzz/corpus/` and of its `fuzz/fuzz_targets/`
/// file.
pub const TARGETS: [(&str, fn(&[u8])); 10] = [
    ("json_command", json_command),
    ("open311_query", open311_query),
    ("open311_form", open311_form),
    ("multipart", multipart),
    ("import_csv", import_csv),
    ("import_xlsx", import_xlsx),
    ("geojson", geojson),
    ("validators", validators),
    ("masking", masking),
    ("image", image),
];

/// The typed commands web reads from JSON bodies with `json::command`, and what a report's
/// command is checked into.
pub fn json_command(data: &[u8]) {
    let body = Bytes::copy_from_slice(data);
    if let Ok(raw) = gongzhi_web::json::command::<RawReport>(&body) {
        let _ = Report::try_from(raw);
    }
    let _ = gongzhi_web::json::command::<SignIn>(&body);
    let _ = gongzhi_web::json::command::<NewKey>(&body);
    let _ = gongzhi_web::json::command::<UnmaskedExport>(&body);
}

/// A fixed "now", so that a failing input fails again.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// The parameters of `GET /open311/v2/requests` (a query string) into a [`request_query`], and
/// the same as the fields of a POST.
pub fn open311_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let params = Params::parse(Some(&text));
    let _ = request_query(&params, now(), &Default::default());
    posted(&params);
}

/// What `POST /open311/v2/requests` reads of its fields before the store: the request, and the
/// caller's contact masked as the timeline keeps it.
fn posted(params: &Params) {
    if let Ok(new) = new_request(params) {
        if let Some(email) = &new.email {
            let _ = mask_email(email);
        }
        if let Some(phone) = &new.phone {
            same_length(phone.trim(), &mask_phone(phone));
        }
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
}

fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}

fn request(content_type: &str, body: &[u8]) -> Request {
    Request::builder()
        .method("POST")
        .uri("/open311/v2/requests.json?api_key=k&jurisdiction_id=j")
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .expect("a request")
}

/// A urlencoded `POST /open311/v2/requests` body, through the form reader of the endpoint.
pub fn open311_form(data: &[u8]) {
    let req = request("application/x-www-form-urlencoded", data);
    if let Ok((params, _media)) = block_on(read_form(&(), Some("api_key=k"), req)) {
        let _ = request_query(&params, now(), &Default::default());
        posted(&params);
    }
}

/// The boundary of the multipart bodies the fuzzer writes (its seeds use it).
pub const BOUNDARY: &str = "gongzhi-fuzz";

/// A multipart body, read by each of the three readers that take one: the first byte picks the
/// Open311 POST, the case and resident forms with photos, or the attachment upload.
pub fn multipart(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let req = request(&content_type, body);
    match pick % 3 {
        0 => {
            if let Ok((params, _media)) = block_on(read_form(&(), None, req)) {
                posted(&params);
            }
        }
        1 => {
            let _ = block_on(gongzhi_web::cases::pages::read_form(&(), req));
        }
        _ => {
            let _ = block_on(async {
                let mut form = Multipart::from_request(req, &()).await.ok()?;
                gongzhi_web::cases::attachment::read_file_field(&mut form, 64 * 1024)
                    .await
                    .ok()
            });
        }
    }
}

/// An empty grid index: rows are read and checked in full, their grid codes found nowhere.
fn no_grids() -> Arc<TerritoryIndex> {
    static INDEX: OnceLock<Arc<TerritoryIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            Arc::new(TerritoryIndex {
                revision: 0,
                grids: GridIndex::new(Vec::new()),
                by_code: Default::default(),
            })
        })
        .clone()
}

fn rules() -> &'static CaseRules {
    static RULES: OnceLock<CaseRules> = OnceLock::new();
    RULES.get_or_init(|| CaseRules::qitaihe().expect("the Qitaihe rules load"))
}

/// A file read once, as an upload of it would be: by the registry template whose headers its first
/// line names most, or as the rule tables' rows and a responsibility list when it names none. One
/// reading per input keeps the fuzzer's time in the readers (it once read each input nine times).
/// A workbook's headers sit inside its zip, so its first bytes pick the reading instead.
fn import(file: &str, data: &[u8]) {
    match reading(file, data) {
        Some(template) => {
            let read = read_only(template.key, file, data, no_grids(), Reach::everywhere());
            assert!(read.is_some(), "{} is a template", template.key);
        }
        None => {
            if let Ok(rows) = gongzhi_office::read_rows(file, data) {
                let rules = rules();
                let _ = ResponsibilityList::from_rows(&rows, &rules.taxonomy, &rules.departments);
            }
        }
    }
}

/// The template an input is read as, `None` for the rule rows.
fn reading(file: &str, data: &[u8]) -> Option<Template> {
    if file.ends_with(".xlsx") {
        let hash = data
            .iter()
            .take(30)
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize));
        return ALL.get(hash % (ALL.len() + 1)).copied();
    }
    let first_line = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let named = |t: &Template| t.columns.iter().filter(|c| first_line.contains(c.header)).count();
    ALL.iter().copied().max_by_key(named).filter(|t| named(t) > 0)
}

/// A CSV upload (registry imports, rule tables).
pub fn import_csv(data: &[u8]) {
    import("fuzz.csv", data);
}

/// An XLSX upload (registry imports, rule tables), read by crates/office.
pub fn import_xlsx(data: &[u8]) {
    import("fuzz.xlsx", data);
}

/// A GeoJSON file: the territory's grid import and a registry import from features.
pub fn geojson(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gongzhi_core::territory::geojson::parse_grids(text);
    let _ = gongzhi_core::territory::geojson::sheet_of_features(text);
    for key in ["compounds", "buildings"] {
        let _ = read_only(key, "fuzz.geojson", data, no_grids(), Reach::everywhere());
    }
}

fn same_length(text: &str, masked: &str) {
    assert_eq!(
        text.chars().count(),
        masked.chars().count(),
        "a mask keeps the length of {text:?}"
    );
}

/// The validators of personal and organization identifiers.
pub fn validators(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = IdNumber::parse(&text) {
        assert_eq!(IdNumber::parse(id.as_str()).as_ref(), Ok(&id));
        assert_eq!(id.masked().len(), 18);
        let _ = (id.division(), id.birth_date());
    }
    if let Ok(phone) = Phone::parse(&text) {
        assert_eq!(Phone::parse(phone.as_str()).as_ref(), Ok(&phone));
        same_length(phone.as_str(), &phone.masked());
    }
    if let Ok(phone) = resident::Phone::parse(&text) {
        same_length(phone.expose(), &phone.masked());
    }
    if let Ok(code) = CreditCode::parse(&text) {
        assert_eq!(CreditCode::parse(code.as_str()).as_ref(), Ok(&code));
        let _ = code.division();
    }
    let _ = gongzhi_core::people::id_number::check_character(&text);
    let _ = gongzhi_core::orgs::credit_code::check_character(&text);
    let _ = PersonName::parse(&text).map(|n| n.masked());
}

/// The masks for personal data in lists, timelines and the audit record. The first two bytes
/// choose an ID mask policy beyond what `parse` allows (a settings file is read by serde).
pub fn masking(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    same_length(text.trim(), &mask_phone(&text));
    same_length(&text, &mask_numbers(&text));
    same_length(&text, &mask_name(&text));
    let _ = mask_email(&text);
    if let Some(policy) = IdMaskPolicy::parse(&text) {
        assert!(policy.head + policy.tail <= 14);
    }
    if let [head, tail, rest @ ..] = data {
        let wide = |b: u8| {
            if b >= 0xF0 {
                usize::MAX - usize::from(b)
            } else {
                usize::from(b)
            }
        };
        let policy = IdMaskPolicy {
            head: wide(*head),
            tail: wide(*tail),
        };
        let id = String::from_utf8_lossy(rest);
        same_length(&id, &policy.mask(&id));
    }
}

/// An uploaded photo: the type by content, the walk of its structure, the dimensions from its
/// header, and the public copy without metadata.
pub fn image(data: &[u8]) {
    let limits = AttachmentLimits::default();
    match check_upload("photos", data.to_vec(), &limits) {
        Ok(checked) => {
            // The public copy of an accepted photo is the same kind of picture, and stripping it
            // again changes nothing.
            let copy = public_copy(checked.media_type(), checked.bytes()).expect("an accepted photo has a public copy");
            assert_eq!(MediaType::sniff(&copy), Some(checked.media_type()));
            assert_eq!(public_copy(checked.media_type(), &copy).as_deref(), Ok(&copy[..]));
        }
        Err(e) => assert_eq!(e.field(), "photos"),
    }
    for media_type in [MediaType::Jpeg, MediaType::Png, MediaType::Webp] {
        let _ = public_copy(media_type, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn corpus(target: &str) -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }

    #[test]
    fn every_target_has_its_fuzz_target_file_and_a_seed_corpus() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        for (name, _) in TARGETS {
            let file = std::fs::read_to_string(root.join(format!("fuzz_targets/{name}.rs"))).unwrap();
            assert!(file.contains(&format!("gongzhi_fuzzing::{name}(")), "{name}");
            assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}");
            assert!(!corpus(name).is_empty(), "{name} has seeds");
        }
    }

    #[test]
    fn every_target_takes_its_seed_corpus() {
        for (name, body) in TARGETS {
            for seed in corpus(name) {
                body(&seed);
            }
        }
    }

    /// A seed with a few bytes changed, cut or repeated: how libFuzzer starts, without its
    /// coverage feedback.
    fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
        let seeds = corpus(target);
        (
            0..seeds.len(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
        )
            .prop_map(move |(i, edits)| {
                let mut bytes = seeds[i].clone();
                for (at, byte, how) in edits {
                    if bytes.is_empty() {
                        bytes.push(byte);
                        continue;
                    }
                    let at = at.index(bytes.len());
                    match how {
                        0 => bytes[at] = byte,
                        1 => bytes.insert(at, byte),
                        2 => bytes.truncate(at),
                        _ => {
                            let tail = bytes[at..].to_vec();
                            bytes.extend_from_slice(&tail[..tail.len().min(64)]);
                        }
                    }
                }
                bytes
            })
    }

    fn inputs(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated(target)]
    }

    /// Cases per target: a few thousand in all, within seconds on CI.
    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 1000,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    macro_rules! random_inputs {
        ($($name:ident),*) => {
            proptest! {
                #![proptest_config(config())]
                $(
                    #[test]
                    fn $name(data in inputs(stringify!($name))) {
                        super::$name(&data);
                    }
                )*
            }
        };
    }

    mod random {
        use super::*;
        random_inputs!(
            json_command,
            open311_query,
            open311_form,
            multipart,
            import_csv,
            import_xlsx,
            geojson,
            validators,
            masking,
            image
        );
    }
}
