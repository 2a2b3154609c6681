//! Open311 GeoReport v2 at `/open311/v2`: a channel into the case loop. Services are the matters
//! of the taxonomy, a posted request is reported through [`gongzhi_app::cases::report`] with
//! channel `open311`, and requests are cases projected onto the spec's fields (docs/OPEN311.md).
//!
//! Every answer is built once as a [`Doc`] and written as XML (the required format) or JSON (the
//! spec's mechanical "Spark" mapping: a container of one repeated child is an array).

mod requests;
pub use requests::{new_request, read_form, request_query};
mod services;
mod updates;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use serde_json::Value;

use crate::conditional::{Audience, Tag, Validators};
use crate::people::source::ClientAddr;
use crate::{ApiError, AppState};

/// Room for the form fields beside the largest photo a multipart request may carry.
const MULTIPART_OVERHEAD: u64 = 256 * 1024;

pub fn routes(max_upload: u64) -> Router<AppState> {
    let body_limit = usize::try_from(max_upload.saturating_add(MULTIPART_OVERHEAD)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/open311/v2/{file}",
            get(root_get)
                .post(requests::post_request)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/open311/v2/services/{file}", get(services::definition))
        // open311 1.1 (Code for America) asks for `service/{code}.{fmt}`, singular.
        .route("/open311/v2/service/{file}", get(services::definition))
        .route("/open311/v2/requests/{file}", get(requests::one))
        .route("/open311/v2/tokens/{file}", get(requests::token))
}

/// A public read of Open311, counted against its source address's budget (the policy's
/// `open311_reads_per_minute`; beyond it 429 with `Retry-After`): anyone may read without a key,
/// so no one client may take the database's time from the staff.
pub(crate) struct PublicRead;

impl FromRequestParts<AppState> for PublicRead {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(ClientAddr(source)) = ClientAddr::from_request_parts(parts, state).await;
        gongzhi_app::cases::open311::take_read(state, &source)?;
        Ok(PublicRead)
    }
}

/// `GET /open311/v2/{discovery,services,requests,servicerequestupdates}.{xml,json}`.
async fn root_get(
    _: PublicRead,
    state: axum::extract::State<AppState>,
    lang: crate::ReqLang,
    path: axum::extract::Path<String>,
    query: axum::extract::RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (stem, format) = split_file(&path.0)?;
    match stem {
        "discovery" => services::discovery(&state, format, &headers),
        "services" => services::list(&state, lang.0, format, &headers),
        "requests" => requests::list(&state, lang.0, format, &Params::parse(query.0.as_deref()), &headers).await,
        "servicerequestupdates" => updates::list(&state, lang.0, format, &Params::parse(query.0.as_deref())).await,
        _ => Err(unknown_resource(&path.0)),
    }
}

/// The two formats of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }

    /// The format a path asks for: JSON for `….json`, otherwise XML (the required format, also
    /// used to refuse a format we do not speak).
    pub fn of_path(path: &str) -> Format {
        if path.ends_with(".json") {
            Format::Json
        } else {
            Format::Xml
        }
    }
}

/// `services.json` → (`services`, JSON); a missing or other suffix is a 400 naming the formats.
pub(crate) fn split_file(file: &str) -> Result<(&str, Format), ApiError> {
    let unsupported = || {
        AppError::new(
            ErrorCode::UnsupportedFormat,
            Some("format"),
            format!("不支持的格式：{file}；请以 .xml 或 .json 结尾"),
            format!("unsupported format in {file:?}: end the path in .xml or .json"),
        )
    };
    let (stem, ext) = file.rsplit_once('.').ok_or_else(unsupported)?;
    let format = match ext {
        "xml" => Format::Xml,
        "json" => Format::Json,
        _ => return Err(unsupported()),
    };
    if stem.is_empty() {
        return Err(unsupported());
    }
    Ok((stem, format))
}

fn unknown_resource(file: &str) -> ApiError {
    AppError::new(
        ErrorCode::NotFound,
        None,
        format!("没有资源 {file}"),
        format!("no resource {file}"),
    )
}

/// An answer's content, written as XML or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// An absent optional field: JSON `null`, an empty XML element.
    Null,
    /// Named children: a JSON object.
    Obj(Vec<(&'static str, Doc)>),
    /// One kind of repeated child (its XML tag given): always a JSON array.
    List(&'static str, Vec<Doc>),
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Doc {
        s.map_or(Doc::Null, |s| Doc::Text(s.into()))
    }

    pub fn json(&self) -> Value {
        match self {
            Doc::Text(s) => Value::String(s.clone()),
            Doc::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Doc::Int(n) => Value::from(*n),
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Null => Value::Null,
            Doc::Obj(fields) => Value::Object(fields.iter().map(|(k, v)| (k.to_string(), v.json())).collect()),
            Doc::List(_, items) => Value::Array(items.iter().map(Doc::json).collect()),
        }
    }

    /// The JSON text, written straight from the document (no `Value` tree in between; the
    /// same JSON as [`Doc::json`], fields in the document's order).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Doc::Text(s) => out.push_str(&serde_json::to_string(s.as_str()).unwrap_or_default()),
            Doc::Number(n) => match serde_json::Number::from_f64(*n) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("null"),
            },
            Doc::Int(n) => out.push_str(&n.to_string()),
            Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Doc::Null => out.push_str("null"),
            Doc::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\":");
                    v.write_json(out);
                }
                out.push('}');
            }
            Doc::List(_, items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
        }
    }

    fn write_xml(&self, tag: &str, out: &mut String) {
        match self {
            Doc::Null => {
                out.push('<');
                out.push_str(tag);
                out.push_str("/>");
                return;
            }
            Doc::List(_, items) if items.is_empty() => {
                out.push('<');
                out.push_str(tag);
                out.push_str("/>");
                return;
            }
            _ => {}
        }
        out.push('<');
        out.push_str(tag);
        out.push('>');
        match self {
            Doc::Text(s) => out.push_str(&xml_text(s)),
            Doc::Number(n) => out.push_str(&n.to_string()),
            Doc::Int(n) => out.push_str(&n.to_string()),
            Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Doc::Obj(fields) => {
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
            }
            Doc::List(child, items) => {
                for item in items {
                    item.write_xml(child, out);
                }
            }
            Doc::Null => {}
        }
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }

    /// The XML document with `root` as its element, behind the declaration the spec requires.
    pub fn xml(&self, root: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write_xml(root, &mut out);
        out.push('\n');
        out
    }
}

/// Text as XML character data: characters XML 1.0 cannot carry are dropped (a control character
/// in a description must not make the document unreadable), markup characters escaped.
pub fn xml_text(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}'))
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

/// An answer in the requested format.
pub fn respond(format: Format, status: StatusCode, root: &str, doc: &Doc) -> Response {
    let body = match format {
        Format::Xml => doc.xml(root),
        Format::Json => {
            let mut out = String::with_capacity(4096);
            doc.write_json(&mut out);
            out
        }
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    response
}

/// An entity tag of an Open311 answer: besides its data, the answer depends on the rules in force
/// (service and unit names: their version and the database's rules revision), the language and
/// the format.
pub(crate) fn tag(state: &AppState, kind: &str, lang: Lang, format: Format) -> Tag {
    Tag::new(kind)
        .part(gongzhi_app::cases::open311::changeset(state))
        .part(state.rules_revision().unwrap_or(-1).to_le_bytes())
        .part(lang.tag())
        .part(format.content_type())
}

/// Validators of an Open311 answer. Services and definitions (the taxonomy) may be kept by any
/// cache; requests are not stored by browsers or proxies (what residents wrote is in them), but
/// an integration that keeps the tag revalidates with it.
pub(crate) fn validators(
    tag: Tag,
    last_modified: Option<chrono::DateTime<chrono::Utc>>,
    dated: bool,
    audience: Audience,
) -> Validators {
    Validators {
        etag: tag.finish(),
        last_modified,
        dated,
        audience,
    }
}

/// The HTTP status the spec allows for an error: 404 for what does not exist, 403 for a wrong or
/// missing api_key (and a key that may not do this), 400 for everything else. Two are kept
/// because they mean something a client must act on differently: 429 (slow down) and 5xx (ours).
fn open311_status(status: StatusCode) -> StatusCode {
    match status {
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => status,
        StatusCode::UNAUTHORIZED => StatusCode::FORBIDDEN,
        s if s.is_server_error() => s,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An [`ApiError`] in the spec's form: `<errors><error><code/><description/></error></errors>`,
/// or `[{"code", "description"}]`, in the format the path asks for. `code` is our HTTP status
/// before the mapping (more specific, as the spec allows: 422 for a point outside every grid).
/// Called from the one error mapping ([`crate::error::render_errors`]).
pub fn error_response(path: &str, error: &ApiError, lang: Lang) -> Response {
    let format = Format::of_path(path);
    let mut description = error.message(lang).to_string();
    if let Some(field) = error.field {
        description = format!("{description} ({field})");
    }
    let doc = Doc::List(
        "error",
        vec![Doc::Obj(vec![
            ("code", Doc::Int(i64::from(error.http_status().as_u16()))),
            ("description", Doc::Text(description)),
        ])],
    );
    respond(format, open311_status(error.http_status()), "errors", &doc)
}

/// Query or form parameters as sent: repeated names kept in order; an empty value is absent
/// (the spec's optional-argument rule).
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params::from_bytes(raw.unwrap_or("").as_bytes())
    }

    pub fn from_bytes(raw: &[u8]) -> Params {
        Params(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    pub fn push(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }
}

/// The base URL of this endpoint: the configured public address (`public_url`), never the
/// request's `Host` header, which whoever sends the request chooses.
pub(crate) fn base_url(state: &AppState) -> String {
    format!("{}/open311/v2", state.public_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            xml_text("a<b>&\"c\"'d'\u{0}\u{1b}\t\n中"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\t\n中"
        );
    }

    #[test]
    fn one_document_gives_the_xml_and_the_spark_json() {
        let doc = Doc::List(
            "service",
            vec![Doc::Obj(vec![
                ("service_code", Doc::text("06001")),
                ("metadata", Doc::Bool(false)),
                ("keywords", Doc::Null),
                ("lat", Doc::Number(45.77)),
            ])],
        );
        assert_eq!(
            doc.xml("services"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<services><service><service_code>06001</service_code><metadata>false</metadata><keywords/><lat>45.77</lat></service></services>\n"
        );
        assert_eq!(
            doc.json(),
            serde_json::json!([{"service_code": "06001", "metadata": false, "keywords": null, "lat": 45.77}])
        );
        let mut text = String::new();
        doc.write_json(&mut text);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc.json());
        assert_eq!(
            text,
            r#"[{"service_code":"06001","metadata":false,"keywords":null,"lat":45.77}]"#
        );
        assert_eq!(
            Doc::List("error", vec![]).xml("errors"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors/>\n"
        );
    }

    #[test]
    fn a_path_names_its_format_or_is_refused() {
        assert_eq!(split_file("services.json").unwrap(), ("services", Format::Json));
        assert_eq!(split_file("06001.xml").unwrap(), ("06001", Format::Xml));
        assert!(split_file("services.html").is_err());
        assert!(split_file("services").is_err());
        assert!(split_file(".json").is_err());
    }

    #[test]
    fn statuses_follow_the_spec() {
        assert_eq!(
            open311_status(StatusCode::UNPROCESSABLE_ENTITY),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(open311_status(StatusCode::UNAUTHORIZED), StatusCode::FORBIDDEN);
        assert_eq!(open311_status(StatusCode::NOT_FOUND), StatusCode::NOT_FOUND);
        assert_eq!(open311_status(StatusCode::CONFLICT), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn params_treat_empty_as_absent_and_keep_repeats() {
        let p = Params::parse(Some("a=&a=1&b=x%2By&attribute%5BM%5D%5B%5D=p&attribute%5BM%5D%5B%5D=q"));
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("x+y"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.0.iter().filter(|(k, _)| k == "attribute[M][]").count(), 2);
    }
}
