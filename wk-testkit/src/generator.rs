//! Realistic synthetic killmails: real-looking ids, 1–30 attackers, values, labels, and the stored
//! form consistent with the canonical one.

use wk_types::{
    AllianceId, AllianceInfo, Attacker, CharacterId, CharacterInfo, CorporationId, CorporationInfo,
    FactionId, Item, Killmail, KillmailId, LocationId, Position, SystemId, TypeId, Victim, Zkb,
};

use crate::rng::Rng;

/// Systems the generator uses: id, name, security label.
pub const SYSTEMS: &[(i64, &str, &str)] = &[
    (30_000_142, "Jita", "loc:highsec"),
    (30_002_813, "Tama", "loc:lowsec"),
    (30_000_144, "Perimeter", "loc:highsec"),
    (30_002_187, "Amarr", "loc:highsec"),
    (30_002_659, "Dodixie", "loc:highsec"),
    (30_002_510, "Rens", "loc:highsec"),
    (30_003_068, "Rancer", "loc:lowsec"),
    (30_001_161, "Uedama", "loc:highsec"),
    (30_004_759, "1DQ1-A", "loc:nullsec"),
    (31_000_005, "Thera", "loc:w-space"),
];

const SHIPS: &[(i64, &str)] = &[
    (587, "Rifter"),
    (670, "Capsule"),
    (11_198, "Stiletto"),
    (11_379, "Taranis"),
    (16_242, "Thrasher"),
    (24_690, "Hurricane"),
    (17_738, "Machariel"),
    (621, "Caracal"),
    (24_696, "Harbinger"),
    (33_468, "Astero"),
    (17_715, "Gila"),
    (22_456, "Sabre"),
    (29_984, "Tengu"),
    (603, "Merlin"),
    (626, "Vexor"),
    (24_700, "Myrmidon"),
];

const WEAPONS: &[i64] = &[2889, 3178, 2873, 2961, 2410, 3001, 2456, 3146, 2929, 12_354];
const FIRST: &[&str] = &[
    "Sera", "Kael", "Mira", "Old Man", "Tobias", "Anya", "Viktor", "Lena", "Darius", "Yuki",
    "Ragnar", "Ilse", "Omar", "Petra", "Jonas", "Nadia",
];
const LAST: &[&str] = &[
    "Okonkwo",
    "Varron",
    "Castellan",
    "Tobias",
    "Kuvakei",
    "Haatakan",
    "Stormbringer",
    "Vask",
    "Thorne",
    "Aurelius",
    "Sokolov",
    "Brightwater",
    "Kessler",
    "Moreau",
];
const CORP_WORDS: &[&str] = &[
    "Lowsec",
    "Tourists",
    "Deep",
    "Void",
    "Salvage",
    "Iron",
    "Wolves",
    "Crimson",
    "Mining",
    "Guild",
    "Black",
    "Rise",
    "Northern",
    "Coalition",
    "Holdings",
    "Industries",
];

fn mix(x: i64) -> u64 {
    let mut z = (x as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(items: &'a [&'a str], h: u64) -> &'a str {
    items[(h % items.len() as u64) as usize]
}

/// The character name the generator gives a character id (stable).
#[must_use]
pub fn character_name(id: i64) -> String {
    let h = mix(id);
    format!("{} {}", pick(FIRST, h), pick(LAST, h >> 17))
}

fn corp_name(id: i64) -> (String, String) {
    let h = mix(id ^ 0x55);
    let a = pick(CORP_WORDS, h);
    let b = pick(CORP_WORDS, h >> 13);
    let ticker: String = format!("{}{}", &a[..2], &b[..1]).to_uppercase();
    (format!("{a} {b}"), ticker)
}

fn cents(rng: &mut Rng, lo: i64, hi: i64) -> f64 {
    rng.range(lo * 100, hi * 100) as f64 / 100.0
}

/// A deterministic generator of realistic killmails.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: Rng,
    next_id: i64,
}

impl Generator {
    /// A generator from a seed; the same seed gives the same killmails (apart from `kill_time`).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let next_id = 131_600_000 + rng.range(0, 100_000);
        Self { rng, next_id }
    }

    /// A canonical killmail in a random system, killed just now.
    pub fn killmail(&mut self) -> Killmail {
        let (system, _, _) = *self.rng.pick(SYSTEMS);
        self.killmail_in(SystemId::new(system))
    }

    /// A canonical killmail in `system`, killed just now.
    pub fn killmail_in(&mut self, system: SystemId) -> Killmail {
        let rng = &mut self.rng;
        self.next_id += rng.range(1, 25);
        let label = SYSTEMS
            .iter()
            .find(|(id, _, _)| *id == system.get())
            .map_or("loc:nullsec", |(_, _, l)| *l);
        let r = rng.unit();
        let attacker_count = (1 + (r * r * r * 30.0) as usize).min(30);
        let (victim_ship, victim_ship_name) = *rng.pick(SHIPS);
        let mut attackers = Vec::with_capacity(attacker_count);
        let final_blow = usize::try_from(rng.range(0, attacker_count as i64 - 1)).unwrap_or(0);
        let mut total_damage = 0;
        let attacker_alliance = rng.chance(0.7).then(|| rng.range(99_000_000, 99_015_000));
        let attacker_corp = rng.range(98_000_000, 98_999_999);
        for i in 0..attacker_count {
            let mut a = Attacker::default();
            let npc = i > 0 && rng.chance(0.1);
            if npc {
                a.corporation_id = Some(CorporationId::new(1_000_127));
                a.ship_type_id = Some(TypeId::new(23_913));
            } else {
                let cid = rng.range(90_000_000, 2_200_000_000);
                a.character_id = Some(CharacterId::new(cid));
                if rng.chance(0.9) {
                    a.character_name = Some(character_name(cid));
                }
                a.corporation_id = Some(CorporationId::new(attacker_corp));
                a.alliance_id = attacker_alliance.map(AllianceId::new);
                let (ship, name) = *rng.pick(SHIPS);
                a.ship_type_id = Some(TypeId::new(ship));
                a.ship_name = Some(name.to_owned());
                a.weapon_type_id = Some(TypeId::new(*rng.pick(WEAPONS)));
                a.security_status = rng.range(-100, 50) as f64 / 10.0;
            }
            a.damage_done = rng.range(0, 3000);
            total_damage += a.damage_done;
            a.final_blow = i == final_blow;
            attackers.push(a);
        }
        let mut victim = Victim::default();
        if victim_ship != 670 || rng.chance(0.99) {
            let cid = rng.range(90_000_000, 2_200_000_000);
            victim.character_id = Some(CharacterId::new(cid));
            victim.character_name = Some(character_name(cid));
        }
        victim.corporation_id = Some(CorporationId::new(rng.range(98_000_000, 98_999_999)));
        if rng.chance(0.6) {
            victim.alliance_id = Some(AllianceId::new(rng.range(99_000_000, 99_015_000)));
        }
        victim.ship_type_id = Some(TypeId::new(victim_ship));
        victim.ship_name = Some(victim_ship_name.to_owned());
        victim.damage_taken = total_damage;
        victim.position = Some(Position {
            x: rng.range(-5_000_000_000_000, 5_000_000_000_000) as f64 / 10.0,
            y: rng.range(-500_000_000_000, 500_000_000_000) as f64 / 100.0,
            z: rng.range(-5_000_000_000_000, 5_000_000_000_000) as f64 / 10.0,
        });
        let mut zkb = Zkb::default();
        let hash: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[(rng.next_u64() % 16) as usize]))
            .collect();
        zkb.hash = Some(hash);
        zkb.location_id = Some(LocationId::new(rng.range(40_000_000, 40_400_000)));
        let fitted = cents(rng, 10_000, 900_000_000);
        let dropped = (fitted * rng.unit() * 100.0).round() / 100.0;
        let destroyed =
            ((fitted - dropped) * 100.0).round() / 100.0 + cents(rng, 10_000, 5_000_000);
        zkb.fitted_value = Some(fitted);
        zkb.dropped_value = Some(dropped);
        zkb.destroyed_value = Some(destroyed);
        zkb.total_value = Some(((dropped + destroyed) * 100.0).round() / 100.0);
        zkb.points = Some(rng.range(1, 60));
        zkb.npc = attackers.iter().all(|a| a.character_id.is_none());
        zkb.solo = attacker_count == 1;
        zkb.labels = vec![
            "cat:6".to_owned(),
            if attacker_count == 1 {
                "solo".to_owned()
            } else {
                format!("#:{}+", attacker_count.min(10))
            },
            "pvp".to_owned(),
            label.to_owned(),
        ];
        let kill_time =
            jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - rng.range(0, 30))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let mut km = Killmail::default();
        km.killmail_id = KillmailId::new(self.next_id);
        km.kill_time = Some(kill_time);
        km.system_id = Some(system);
        km.victim = Some(victim);
        km.attacker_count = Some(attacker_count as i64);
        km.attackers = attackers;
        km.zkb = Some(zkb);
        km
    }

    /// The stored (cache) form consistent with `canonical`: nested ESI records, items, faction ids,
    /// and the derived totals (§4.2).
    #[must_use]
    pub fn stored(&self, canonical: &Killmail) -> Killmail {
        let mut km = canonical.clone();
        km.attacker_count = None;
        if let Some(v) = km.victim.as_mut() {
            v.character = v
                .character_id
                .map(|c| Box::new(character_info(c, v.corporation_id, v.alliance_id)));
            v.corporation = v
                .corporation_id
                .map(|c| Box::new(corporation_info(c, v.alliance_id, v.character_id)));
            v.alliance = v
                .alliance_id
                .map(|a| Box::new(alliance_info(a, v.corporation_id, v.character_id)));
            let h = mix(km.killmail_id.get());
            v.items = (0..1 + h % 4)
                .map(|i| {
                    let mut item = Item::default();
                    item.item_type_id = Some(TypeId::new(
                        WEAPONS[((h >> (i * 5)) % WEAPONS.len() as u64) as usize],
                    ));
                    item.flag = Some(27 + i as i64);
                    item.singleton = Some(0);
                    if (h >> i) & 1 == 0 {
                        item.quantity_destroyed = Some(1);
                    } else {
                        item.quantity_dropped = Some(1);
                    }
                    item
                })
                .collect();
        }
        for a in &mut km.attackers {
            if a.character_id.is_none() && a.corporation_id == Some(CorporationId::new(1_000_127)) {
                a.faction_id = Some(FactionId::new(500_010));
            }
            a.character = a
                .character_id
                .map(|c| Box::new(character_info(c, a.corporation_id, a.alliance_id)));
            if a.character_id.is_some() {
                a.corporation = a
                    .corporation_id
                    .map(|c| Box::new(corporation_info(c, a.alliance_id, a.character_id)));
                a.alliance = a
                    .alliance_id
                    .map(|al| Box::new(alliance_info(al, a.corporation_id, a.character_id)));
            }
        }
        km.total_value = Some(km.zkb.as_ref().and_then(|z| z.total_value).unwrap_or(0.0));
        km.npc = Some(km.zkb.as_ref().is_some_and(|z| z.npc));
        km.total_damage = Some(km.attackers.iter().map(|a| a.damage_done).sum());
        km.involved_parties = Some(km.attackers.len() as i64 + 1);
        km.final_blow_attacker = km
            .attackers
            .iter()
            .find(|a| a.final_blow)
            .map(|a| Box::new(a.clone()));
        km
    }
}

fn character_info(
    id: CharacterId,
    corp: Option<CorporationId>,
    alliance: Option<AllianceId>,
) -> CharacterInfo {
    let h = mix(id.get());
    let mut c = CharacterInfo::default();
    c.character_id = Some(id);
    c.name = Some(character_name(id.get()));
    c.corporation_id = corp;
    c.alliance_id = alliance;
    c.birthday = Some(format!(
        "20{:02}-{:02}-{:02}T10:11:12Z",
        5 + h % 20,
        1 + (h >> 8) % 12,
        1 + (h >> 16) % 28
    ));
    c.gender = Some(if h & 1 == 0 { "female" } else { "male" }.to_owned());
    c.race_id = Some([1, 2, 4, 8][(h >> 3) as usize % 4]);
    c.bloodline_id = Some(1 + (h >> 5) as i64 % 14);
    c.ancestry_id = Some(1 + (h >> 9) as i64 % 42);
    c.security_status = Some(((h >> 20) % 100) as f64 / 10.0 - 5.0);
    c
}

fn corporation_info(
    id: CorporationId,
    alliance: Option<AllianceId>,
    member: Option<CharacterId>,
) -> CorporationInfo {
    let h = mix(id.get());
    let (name, ticker) = corp_name(id.get());
    let mut c = CorporationInfo::default();
    c.corporation_id = Some(id);
    c.name = Some(name);
    c.ticker = Some(ticker);
    c.alliance_id = alliance;
    c.ceo_id = member;
    c.creator_id = member;
    c.date_founded = Some(format!(
        "20{:02}-{:02}-01T00:00:00Z",
        5 + h % 20,
        1 + (h >> 8) % 12
    ));
    c.description = Some(String::new());
    c.home_station_id = Some(LocationId::new(60_003_760));
    c.member_count = Some(1 + (h >> 4) as i64 % 500);
    c.shares = Some(1000);
    c.tax_rate = Some(((h >> 12) % 20) as f64 / 100.0);
    c.url = Some(String::new());
    c.war_eligible = Some(true);
    c
}

fn alliance_info(
    id: AllianceId,
    executor: Option<CorporationId>,
    creator: Option<CharacterId>,
) -> AllianceInfo {
    let h = mix(id.get());
    let (name, ticker) = corp_name(id.get() ^ 0x77);
    let mut a = AllianceInfo::default();
    a.alliance_id = Some(id);
    a.name = Some(format!("{name} Alliance"));
    a.ticker = Some(format!("{ticker}A"));
    a.creator_corporation_id = executor;
    a.creator_id = creator;
    a.date_founded = Some(format!(
        "20{:02}-{:02}-08T00:00:00Z",
        5 + h % 20,
        1 + (h >> 8) % 12
    ));
    a.executor_corporation_id = executor;
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn killmails_are_realistic() {
        let mut g = Generator::new(1);
        for _ in 0..200 {
            let km = g.killmail();
            assert!((1..=30).contains(&km.attackers.len()));
            assert_eq!(km.attackers.iter().filter(|a| a.final_blow).count(), 1);
            assert_eq!(km.attacker_count, Some(km.attackers.len() as i64));
            assert_eq!(km.shape(), wk_types::KillmailShape::Canonical);
            let stored = g.stored(&km);
            assert_eq!(stored.shape(), wk_types::KillmailShape::Stored);
            assert_eq!(stored.involved_parties, Some(km.attackers.len() as i64 + 1));
            assert_eq!(
                crate::forms::canonical(&stored),
                crate::forms::canonical(&km)
            );
        }
    }
}
