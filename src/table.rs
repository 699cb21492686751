//! Plain aligned tables for a terminal: the header, then one line per row. Widths count
//! what a terminal shows, so Vietnamese names line up.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.into());
    }

    pub fn write(&self, out: &mut impl Write, color: bool) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| shown_width(h)).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(shown_width(cell));
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                text.push_str(cell);
                if i + 1 < cells.len() {
                    text.push_str(&" ".repeat(width - shown_width(cell) + 2));
                }
            }
            text
        };
        let header = line(&self.header);
        if color {
            writeln!(out, "\x1b[1m{header}\x1b[0m")?;
        } else {
            writeln!(out, "{header}")?;
        }
        for row in &self.rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}

/// Columns a cell takes on a terminal: colour codes (`ESC [ … m`) take none.
fn shown_width(cell: &str) -> usize {
    let mut plain = String::with_capacity(cell.len());
    let mut in_code = false;
    for c in cell.chars() {
        match (in_code, c) {
            (false, '\x1b') => in_code = true,
            (true, 'm') => in_code = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain.width()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_displayed_width() {
        let mut table = Table::new(["ID", "TÊN"]);
        table.row(["dict".into(), "Sở Thông tin".into()]);
        table.row(["x".into(), "y".into()]);
        let mut out = Vec::new();
        table.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "ID    TÊN\ndict  Sở Thông tin\nx     y\n");
    }

    #[test]
    fn colour_codes_take_no_columns() {
        let mut table = Table::new(["STATE", "SITE"]);
        table.row(["\x1b[32mOK\x1b[0m".into(), "a".into()]);
        table.row(["DEGRADED".into(), "b".into()]);
        let mut out = Vec::new();
        table.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "STATE     SITE\n\x1b[32mOK\x1b[0m        a\nDEGRADED  b\n"
        );
    }
}
