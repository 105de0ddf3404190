//! The [`Weigh`] trait: an estimate of a value's size, for namespaces bounded by [`Capacity::Weight`](crate::Capacity::Weight).

use std::mem::size_of;

use wk_types::http::KillList;
use wk_types::{Attacker, Item, Killmail};

/// An estimate of a value's memory footprint in bytes, computed once when the value is inserted.
///
/// It only matters for a namespace configured with [`Capacity::Weight`](crate::Capacity::Weight);
/// with [`Capacity::Entries`](crate::Capacity::Entries) every entry weighs 1 and this is never called.
/// The estimate counts the value's own struct and its vectors, not every string's heap bytes.
///
/// ```
/// use wk_cache::Weigh;
///
/// let small = serde_json::json!({"name": "Jita"});
/// let large = serde_json::json!({"name": "Jita", "kills": vec![1; 1000]});
/// assert!(large.weigh() > small.weigh());
/// assert!(small.weigh() >= 1);
/// ```
pub trait Weigh {
    /// The estimated size in bytes; never 0 (quick_cache would then never evict the entry).
    fn weigh(&self) -> u64;
}

/// Bytes as `u64`, saturating (only reachable on exotic targets).
fn bytes(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Items nest (containers hold items), so count them all without recursing.
fn items_size(items: &[Item]) -> usize {
    let mut total = 0;
    let mut stack: Vec<&[Item]> = vec![items];
    while let Some(level) = stack.pop() {
        total += std::mem::size_of_val(level);
        stack.extend(level.iter().map(|i| i.items.as_slice()));
    }
    total
}

impl Weigh for Killmail {
    fn weigh(&self) -> u64 {
        let victim_items = self.victim.as_ref().map_or(0, |v| items_size(&v.items));
        bytes(size_of::<Self>() + self.attackers.len() * size_of::<Attacker>() + victim_items)
    }
}

impl Weigh for KillList {
    fn weigh(&self) -> u64 {
        let kills: u64 = self.kills.iter().map(Weigh::weigh).sum();
        bytes(size_of::<Self>()).saturating_add(kills)
    }
}

impl Weigh for serde_json::Value {
    fn weigh(&self) -> u64 {
        use serde_json::Value;

        let mut total = 0usize;
        let mut stack = vec![self];
        while let Some(value) = stack.pop() {
            total += size_of::<Value>();
            match value {
                Value::String(s) => total += s.len(),
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => {
                    for (k, v) in map {
                        // A key's String plus the map's per-entry bookkeeping.
                        total += k.len() + size_of::<String>() + 16;
                        stack.push(v);
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        bytes(total)
    }
}

impl Weigh for String {
    fn weigh(&self) -> u64 {
        bytes(size_of::<Self>() + self.len())
    }
}

impl Weigh for Vec<u8> {
    fn weigh(&self) -> u64 {
        bytes(size_of::<Self>() + self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wk_types::Victim;

    #[test]
    fn killmail_weight_grows_with_content() {
        let bare = Killmail::default();
        let mut full = Killmail::default();
        full.attackers = vec![Attacker::default(); 10];
        let mut victim = Victim::default();
        let mut container = Item::default();
        container.items = vec![Item::default(); 3];
        victim.items = vec![container, Item::default()];
        full.victim = Some(victim);
        assert!(bare.weigh() > 0);
        assert_eq!(
            full.weigh(),
            bare.weigh() + bytes(10 * size_of::<Attacker>() + 5 * size_of::<Item>())
        );
    }

    #[test]
    fn kill_list_sums_its_kills() {
        let list = KillList::new(vec![Killmail::default(); 4], None, true);
        assert_eq!(
            list.weigh(),
            bytes(size_of::<KillList>()) + 4 * Killmail::default().weigh()
        );
    }

    #[test]
    fn json_and_bytes() {
        assert_eq!(
            serde_json::Value::Null.weigh(),
            bytes(size_of::<serde_json::Value>())
        );
        let nested = serde_json::json!([[["deep"]]]);
        assert_eq!(
            nested.weigh(),
            bytes(4 * size_of::<serde_json::Value>() + 4)
        );
        assert_eq!(vec![0u8; 100].weigh(), bytes(size_of::<Vec<u8>>() + 100));
        assert_eq!("ab".to_owned().weigh(), bytes(size_of::<String>() + 2));
    }
}
