//! Output for people: one-line kills, compact ISK, system names, aligned tables.

use std::io::{self, Write};

use wk::types::{Killmail, KillmailShape, SystemId, Timestamp};

/// The name of a system this tool knows (the testkit generator's systems are real EVE systems).
pub(crate) fn system_name(id: SystemId) -> Option<&'static str> {
    wk::testkit::generator::SYSTEMS
        .iter()
        .find(|(sid, _, _)| *sid == id.get())
        .map(|(_, name, _)| *name)
}

/// `Tama (30002813)`, or the bare id when the name is unknown.
pub(crate) fn system_label(id: SystemId, name_hint: Option<&str>) -> String {
    match name_hint.filter(|n| !n.is_empty()).or(system_name(id)) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// The system of a killmail, labelled, or `-`.
pub(crate) fn kill_system(km: &Killmail) -> String {
    km.system_id.map_or_else(
        || "-".to_owned(),
        |s| system_label(s, km.solar_system_name.as_deref()),
    )
}

/// ISK in at most four significant digits: `950 ISK`, `13.6k ISK`, `13.6M ISK`, `1.25B ISK`.
pub(crate) fn isk(value: f64) -> String {
    let abs = value.abs();
    let (scaled, unit) = if abs >= 1e12 {
        (value / 1e12, "T")
    } else if abs >= 1e9 {
        (value / 1e9, "B")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        return format!("{value:.0} ISK");
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{scaled:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text}{unit} ISK")
}

/// `HH:MM:SS` in UTC (EVE time).
pub(crate) fn clock(ts: Timestamp) -> String {
    let secs = ts.as_second().rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2025-12-03 14:21:07` in UTC.
pub(crate) fn date_time(ts: Timestamp) -> String {
    let text = ts.to_string();
    // RFC 3339 `2025-12-03T14:21:07.123Z`: keep date and whole seconds.
    match text.get(..19) {
        Some(head) if text.len() >= 19 => head.replacen('T', " ", 1),
        _ => text,
    }
}

/// The victim's ship: its name, else its type id, else `-`.
pub(crate) fn victim_ship(km: &Killmail) -> String {
    let Some(v) = km.victim.as_ref() else {
        return "-".to_owned();
    };
    match (&v.ship_name, v.ship_type_id) {
        (Some(name), _) if !name.is_empty() => name.clone(),
        (_, Some(t)) => format!("type {t}"),
        _ => "-".to_owned(),
    }
}

/// The victim's name, when the killmail names one.
pub(crate) fn victim_name(km: &Killmail) -> Option<String> {
    let v = km.victim.as_ref()?;
    v.character_name
        .clone()
        .or_else(|| v.character.as_ref().and_then(|c| c.name.clone()))
        .or_else(|| v.character_id.map(|c| format!("character {c}")))
}

/// `Sera Okonkwo (Stiletto)`, `NPC (type 23913)`, or `-`.
pub(crate) fn final_blow(km: &Killmail) -> String {
    let Some(a) = km.final_blow() else {
        return "-".to_owned();
    };
    let who = a
        .character_name
        .clone()
        .or_else(|| a.character.as_ref().and_then(|c| c.name.clone()))
        .or_else(|| a.character_id.map(|c| format!("character {c}")))
        .unwrap_or_else(|| "NPC".to_owned());
    let ship = a
        .ship_name
        .clone()
        .or_else(|| a.ship_type_id.map(|t| format!("type {t}")));
    match ship {
        Some(ship) => format!("{who} ({ship})"),
        None => who,
    }
}

/// The kill's value, or `-`.
pub(crate) fn value(km: &Killmail) -> String {
    km.total_value().map_or_else(|| "-".to_owned(), isk)
}

/// One line per kill:
/// `14:21:07  Tama (30002813)  Rifter  13.6M ISK  3 attackers  final blow: Sera Okonkwo (Stiletto)`.
pub(crate) fn kill_line(km: &Killmail) -> String {
    let time = km.kill_time.map_or_else(|| "--:--:--".to_owned(), clock);
    let n = km.attacker_count();
    let attackers = if n == 1 {
        "1 attacker".to_owned()
    } else {
        format!("{n} attackers")
    };
    format!(
        "{time}  {}  {}  {}  {attackers}  final blow: {}",
        kill_system(km),
        victim_ship(km),
        value(km),
        final_blow(km)
    )
}

/// Plain aligned text columns; the last column is not padded.
#[derive(Debug, Default)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new<const N: usize>(header: [&str; N]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                line.push_str(cell);
                if i + 1 < columns {
                    let pad = widths[i] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `key  value` lines, keys aligned.
pub(crate) fn write_fields(out: &mut dyn Write, fields: &[(&str, String)]) -> io::Result<()> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in fields {
        writeln!(out, "{key:<width$}  {value}")?;
    }
    Ok(())
}

/// Whether every kill is a bare zKillboard reference (id and `zkb` only).
pub(crate) fn all_references(kills: &[Killmail]) -> bool {
    kills.iter().all(|k| k.shape() == KillmailShape::Reference)
}

/// A table of kills: full columns, or id, value, points and labels for zKillboard references.
pub(crate) fn kill_table(kills: &[Killmail]) -> Table {
    if !kills.is_empty() && all_references(kills) {
        let mut table = Table::new(["KILLMAIL", "VALUE", "POINTS", "LABELS"]);
        for km in kills {
            let zkb = km.zkb.as_ref();
            table.row(vec![
                km.killmail_id.to_string(),
                value(km),
                zkb.and_then(|z| z.points)
                    .map_or_else(|| "-".to_owned(), |p| p.to_string()),
                zkb.map(|z| z.labels.join(" "))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| "-".to_owned()),
            ]);
        }
        return table;
    }
    let mut table = Table::new([
        "KILLMAIL",
        "TIME (UTC)",
        "SYSTEM",
        "SHIP",
        "VALUE",
        "ATTACKERS",
        "FINAL BLOW",
    ]);
    for km in kills {
        let attackers = if km.attackers.is_empty() && km.attacker_count.is_none() {
            "-".to_owned()
        } else {
            km.attacker_count().to_string()
        };
        table.row(vec![
            km.killmail_id.to_string(),
            km.kill_time.map_or_else(|| "-".to_owned(), date_time),
            kill_system(km),
            victim_ship(km),
            value(km),
            attackers,
            final_blow(km),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isk_is_compact() {
        assert_eq!(isk(950.0), "950 ISK");
        assert_eq!(isk(13_600_000.0), "13.6M ISK");
        assert_eq!(isk(1_250_000_000.0), "1.25B ISK");
        assert_eq!(isk(10_000.0), "10k ISK");
        assert_eq!(isk(123_456_789.0), "123M ISK");
        assert_eq!(isk(0.0), "0 ISK");
    }

    #[test]
    fn clock_is_utc() {
        let ts: Timestamp = "2025-12-03T14:21:07.5Z".parse().expect("valid");
        assert_eq!(clock(ts), "14:21:07");
        assert_eq!(date_time(ts), "2025-12-03 14:21:07");
    }

    #[test]
    fn a_kill_is_one_readable_line() {
        let mut generator = wk::testkit::Generator::new(3);
        let km = generator.killmail_in(SystemId::new(30_002_813));
        let line = kill_line(&km);
        assert!(line.contains("Tama (30002813)"), "{line}");
        assert!(line.contains(" ISK  "), "{line}");
        assert!(line.contains("final blow: "), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(["A", "BB"]);
        t.row(vec!["long".to_owned(), "x".to_owned()]);
        let mut out = Vec::new();
        t.write(&mut out).expect("writes");
        assert_eq!(String::from_utf8(out).expect("utf8"), "A     BB\nlong  x\n");
    }

    #[test]
    fn unknown_systems_print_their_id() {
        assert_eq!(system_label(SystemId::new(30_000_001), None), "30000001");
        assert_eq!(
            system_label(SystemId::new(30_000_142), None),
            "Jita (30000142)"
        );
    }
}
