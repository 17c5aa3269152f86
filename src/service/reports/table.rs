//! A report as a table: a title, columns and rows of text or numbers, written out as CSV
//! (UTF-8 with a byte-order mark and CRLF, so Excel opens Chinese text cleanly) or XLSX.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn int(n: u64) -> Cell {
        Cell::Number(n as f64)
    }

    pub fn opt(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub name: &'static str,
    /// Width in characters (XLSX).
    pub width: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// The title row, e.g. `承办单位考核（2026-11-01 至 2026-11-30）`.
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// CSV: the title row, the header, the rows.
    pub fn csv(&self) -> Vec<u8> {
        let mut out = String::from("\u{feff}");
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = String>| {
            let cells: Vec<String> = cells.map(|c| quote(&c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        };
        line(&mut out, &mut std::iter::once(self.title.clone()));
        line(
            &mut out,
            &mut self.columns.iter().map(|c| c.name.to_string()),
        );
        for r in &self.rows {
            line(
                &mut out,
                &mut r.iter().map(|c| match c {
                    Cell::Text(s) => defuse(s),
                    Cell::Number(n) => number(*n),
                    Cell::Empty => String::new(),
                }),
            );
        }
        out.into_bytes()
    }

    /// XLSX: the title in the first row, the header in the second (bold, frozen with the
    /// title above it), numbers as numbers, each column its width.
    pub fn xlsx(&self) -> Result<Vec<u8>, crate::error::AppError> {
        use rust_xlsxwriter::{Format, FormatBorder, Workbook};
        let fail =
            |e: rust_xlsxwriter::XlsxError| crate::error::AppError::Internal(format!("xlsx: {e}"));
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("报表").map_err(fail)?;
        let title = Format::new().set_bold().set_font_size(14);
        let head = Format::new()
            .set_bold()
            .set_border_bottom(FormatBorder::Thin)
            .set_text_wrap();
        ws.write_string_with_format(0, 0, &self.title, &title)
            .map_err(fail)?;
        for (i, c) in self.columns.iter().enumerate() {
            let col = i as u16;
            ws.write_string_with_format(1, col, c.name, &head)
                .map_err(fail)?;
            ws.set_column_width(col, f64::from(c.width)).map_err(fail)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let at = r as u32 + 2;
            for (i, cell) in row.iter().enumerate() {
                let col = i as u16;
                match cell {
                    Cell::Text(s) => ws.write_string(at, col, s).map(|_| ()),
                    Cell::Number(n) => ws.write_number(at, col, *n).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
        }
        ws.set_freeze_panes(2, 0).map_err(fail)?;
        wb.save_to_buffer().map_err(fail)
    }
}

/// A number as people write it: no `.0` on whole numbers.
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Text that a spreadsheet would take for a formula gets a leading apostrophe.
fn defuse(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_quotes_what_needs_it_and_defuses_formulas() {
        let t = Table {
            title: "标题".into(),
            columns: vec![
                Column {
                    name: "单位",
                    width: 20,
                },
                Column {
                    name: "得分",
                    width: 8,
                },
            ],
            rows: vec![
                vec![Cell::text("新塘镇, \"东\""), Cell::Number(85.5)],
                vec![Cell::text("=1+1"), Cell::int(3)],
                vec![Cell::text("甲"), Cell::Empty],
            ],
        };
        let s = String::from_utf8(t.csv()).unwrap_or_default();
        assert_eq!(
            s,
            "\u{feff}标题\r\n单位,得分\r\n\"新塘镇, \"\"东\"\"\",85.5\r\n'=1+1,3\r\n甲,\r\n"
        );
    }
}
