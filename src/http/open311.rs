//! Open311 GeoReport v2 under `/open311/v2/`: each resource as `.json` or `.xml`, errors in
//! the spec's format (`[{code, description}]`), the channel's token as `api_key`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::error::AppError;
use crate::http::{AppState, blocking};
use crate::service::open311::{self, ListQuery, NewRequest};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// The format a path names by its ending, and the name before it.
fn split(name: &str) -> Option<(&str, Format)> {
    if let Some(n) = name.strip_suffix(".json") {
        Some((n, Format::Json))
    } else {
        name.strip_suffix(".xml").map(|n| (n, Format::Xml))
    }
}

fn format_of(uri: &Uri) -> Format {
    if uri.path().ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// `<list><item><field>…</field>…</item>…</list>` from a JSON array of flat objects.
fn xml(list: &str, item: &str, items: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    out.push_str(&format!("<{list}>"));
    for it in items.as_array().into_iter().flatten() {
        out.push_str(&format!("<{item}>"));
        for (k, v) in it.as_object().into_iter().flatten() {
            let text = match v {
                Value::Null => String::new(),
                Value::String(s) => escape(s),
                other => escape(&other.to_string()),
            };
            out.push_str(&format!("<{k}>{text}</{k}>"));
        }
        out.push_str(&format!("</{item}>"));
    }
    out.push_str(&format!("</{list}>"));
    out
}

fn answer<T: Serialize>(
    f: Format,
    status: StatusCode,
    list: &str,
    item: &str,
    items: &[T],
) -> Response {
    let v = serde_json::to_value(items).unwrap_or(Value::Array(Vec::new()));
    let (body, ctype) = match f {
        Format::Json => (v.to_string(), "application/json; charset=utf-8"),
        Format::Xml => (xml(list, item, &v), "text/xml; charset=utf-8"),
    };
    let len = HeaderValue::from(body.len());
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    // A sized body is ours: the error pages leave it alone.
    r.headers_mut().insert(header::CONTENT_LENGTH, len);
    r
}

#[derive(Serialize)]
struct ErrorItem {
    code: u16,
    description: String,
}

/// An error the GeoReport way: the HTTP status, and `[{code, description}]` in the format asked.
fn error(f: Format, e: &AppError) -> Response {
    let status = match e {
        AppError::Invalid { .. } | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Forbidden | AppError::Unauthenticated => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let description = match e {
        AppError::Forbidden | AppError::Unauthenticated => {
            "api_key is invalid or revoked".to_string()
        }
        AppError::NotFound => "not found".to_string(),
        AppError::Invalid { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    };
    answer(
        f,
        status,
        "errors",
        "error",
        &[ErrorItem {
            code: status.as_u16(),
            description,
        }],
    )
}

fn query<T: serde::de::DeserializeOwned + Default>(uri: &Uri) -> Result<T, AppError> {
    match uri.query() {
        None => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| AppError::invalid("query", format!("malformed query: {e}"))),
    }
}

#[derive(Default, serde::Deserialize)]
struct KeyOnly {
    #[serde(default)]
    api_key: Option<String>,
}

/// `GET services.{json,xml}`: the categories as services (no key needed: nothing private).
pub async fn services(State(state): State<AppState>, uri: Uri) -> Response {
    let f = format_of(&uri);
    match blocking(&state, open311::services).await {
        Ok(items) => answer(f, StatusCode::OK, "services", "service", &items),
        Err(e) => error(f, &e),
    }
}

/// `GET services/{code}.{json,xml}`: no service has attributes (`metadata` is false).
pub async fn service_definition(Path(file): Path<String>) -> Response {
    let f = split(&file).map_or(Format::Json, |(_, f)| f);
    error(f, &AppError::NotFound)
}

/// `POST requests.{json,xml}` (form fields): a new request, answered with a token.
pub async fn create(State(state): State<AppState>, uri: Uri, body: Bytes) -> Response {
    let f = format_of(&uri);
    let form: NewRequest = match serde_urlencoded::from_bytes(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                f,
                &AppError::invalid("body", format!("malformed form: {e}")),
            );
        }
    };
    let result = blocking(&state, move |app| {
        let actor = open311::actor_for(app, form.api_key.as_deref())?;
        open311::create(app, &actor, &form)
    })
    .await;
    match result {
        Ok(c) => answer(f, StatusCode::CREATED, "service_requests", "request", &[c]),
        Err(e) => error(f, &e),
    }
}

/// `GET requests.{json,xml}`: the channel's requests by id, or by date, service and status.
pub async fn list(State(state): State<AppState>, uri: Uri) -> Response {
    let f = format_of(&uri);
    let q: ListQuery = match query(&uri) {
        Ok(q) => q,
        Err(e) => return error(f, &e),
    };
    let result = blocking(&state, move |app| {
        let actor = open311::actor_for(app, q.api_key.as_deref())?;
        open311::list(app, &actor, &q)
    })
    .await;
    match result {
        Ok(items) => answer(f, StatusCode::OK, "service_requests", "request", &items),
        Err(e) => error(f, &e),
    }
}

/// A resource named by its file (`{id}.json`, `{token}.xml`), read with the `api_key`.
async fn by_file<T, F>(state: &AppState, uri: &Uri, file: &str, read: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&crate::service::App, &crate::service::Actor, &str) -> Result<T, AppError>
        + Send
        + 'static,
{
    let Some((name, f)) = split(file) else {
        return error(Format::Json, &AppError::NotFound);
    };
    let name = name.to_string();
    let key: KeyOnly = match query(uri) {
        Ok(k) => k,
        Err(e) => return error(f, &e),
    };
    let result = blocking(state, move |app| {
        let actor = open311::actor_for(app, key.api_key.as_deref())?;
        read(app, &actor, &name)
    })
    .await;
    match result {
        Ok(r) => answer(f, StatusCode::OK, "service_requests", "request", &[r]),
        Err(e) => error(f, &e),
    }
}

/// `GET requests/{id}.{json,xml}`.
pub async fn get(State(state): State<AppState>, uri: Uri, Path(file): Path<String>) -> Response {
    by_file(&state, &uri, &file, open311::get).await
}

/// `GET tokens/{token}.{json,xml}`: the id a token stands for, once the order is screened.
pub async fn token(State(state): State<AppState>, uri: Uri, Path(file): Path<String>) -> Response {
    by_file(&state, &uri, &file, open311::token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_drops_what_xml_cannot_carry() {
        let v = serde_json::json!([{"a": "x<y & \"z\"\u{1}", "n": 3, "none": null}]);
        assert_eq!(
            xml("list", "item", &v),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><list><item><a>x&lt;y &amp; &quot;z&quot;</a><n>3</n><none></none></item></list>"
        );
        assert!(split("HD2026.json").is_some() && split("x.txt").is_none());
    }
}
