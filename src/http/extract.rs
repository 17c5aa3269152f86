//! Extractors that turn bad input into `AppError`s: JSON and form bodies, the actor, the peer.

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ClientIp;
use crate::error::AppError;
use crate::service::Actor;

/// A JSON body; malformed → 400, wrong types → 422 naming the field, too large → 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_rejection(r)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMedia("application/json"),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text);
            AppError::invalid("body", format!("字段无效：{detail}"))
        }
        JsonRejection::JsonSyntaxError(e) => {
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to parse the request body as JSON: ")
                .unwrap_or(&text);
            AppError::BadRequest(format!("JSON 格式错误（{detail}）"))
        }
        other if other.status().as_u16() == 413 => AppError::TooLarge,
        other => AppError::BadRequest(other.body_text()),
    }
}

/// A urlencoded form body.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(AppError::UnsupportedMedia(
                "application/x-www-form-urlencoded",
            )),
            Err(FormRejection::FailedToDeserializeForm(e)) => Err(AppError::BadRequest(format!(
                "表单内容无效（{}）",
                e.body_text()
            ))),
            Err(other) if other.status().as_u16() == 413 => Err(AppError::TooLarge),
            Err(other) => Err(AppError::BadRequest(other.body_text())),
        }
    }
}

/// A query string; a bad one is a 400, never a 500.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| AppError::BadRequest(format!("查询参数无效（{}）", e.body_text())))
    }
}

/// A numeric id from a path segment; anything else is a 404, never a 400 or a 500.
pub fn path_id(raw: &str) -> Result<u64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// A numeric id from the path.
pub struct IdPath(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::NotFound)?;
        path_id(&raw).map(IdPath)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

/// The peer's address, when the connection loop recorded it.
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ClientIp>().map(|c| c.0)))
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Actor>().cloned())
    }
}

/// One part of a multipart form.
pub struct Part {
    pub name: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Reads a whole multipart form (the page forms that upload files; the CSRF token rides in
/// the query string). A part over `max_part` bytes is `413`.
pub async fn multipart(req: axum::extract::Request, max_part: u64) -> Result<Vec<Part>, AppError> {
    use futures_util::StreamExt as _;
    let boundary = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or(AppError::UnsupportedMedia("multipart/form-data"))?;
    let limits = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(max_part * 2 + 64 * 1024)
            .per_field(max_part),
    );
    let stream = req
        .into_body()
        .into_data_stream()
        .map(|r| r.map_err(std::io::Error::other));
    let mut mp = multer::Multipart::with_constraints(stream, boundary, limits);
    let bad = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            AppError::TooLarge
        }
        other => AppError::BadRequest(format!("上传内容无效（{other}）")),
    };
    let mut parts = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(bad)?.to_vec();
        parts.push(Part {
            name,
            file_name,
            bytes,
        });
    }
    Ok(parts)
}
