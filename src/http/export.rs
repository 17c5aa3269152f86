//! Report downloads: the period a report is asked for, and a table as CSV or XLSX.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::service::reports::{Period, table::Table};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

/// How a report is wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(v: Option<&str>) -> Result<Format, AppError> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("json") | Some("html") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(_) => Err(AppError::invalid("format", "导出格式应为 csv 或 xlsx")),
        }
    }
}

impl PeriodQuery {
    /// The format and the period asked for (default: JSON, this month).
    pub fn asked(&self, now: crate::domain::time::Timestamp) -> Result<(Format, Period), AppError> {
        let format = Format::parse(self.format.as_deref())?;
        let period = Period::parse(self.from.as_deref(), self.to.as_deref(), now)?;
        Ok((format, period))
    }
}

/// A report as asked: itself as JSON, or its table (made only then) as a download.
pub fn respond<T: serde::Serialize>(
    report: &T,
    format: Format,
    table: impl FnOnce() -> Table,
    name: &str,
    p: &Period,
) -> Result<Response, AppError> {
    match format {
        Format::Json => Ok(axum::Json(report).into_response()),
        f => download(&table(), f, name, p),
    }
}

/// A table as a download named `<name>-<from>-<to>.<ext>`.
pub fn download(t: &Table, format: Format, name: &str, p: &Period) -> Result<Response, AppError> {
    download_named(t, format, &format!("{name}-{}-{}", p.from, p.last))
}

/// A table as a download named `<name>.<ext>` (tables that are no period's report).
pub fn download_named(t: &Table, format: Format, name: &str) -> Result<Response, AppError> {
    let (body, mime, ext) = match format {
        Format::Csv => (t.csv(), "text/csv; charset=utf-8", "csv"),
        _ => (
            t.xlsx()?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    // The name may hold Chinese: RFC 5987 for browsers, an ASCII fallback for the rest.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = crate::http::guard::urlencode(&format!("{name}.{ext}"));
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
