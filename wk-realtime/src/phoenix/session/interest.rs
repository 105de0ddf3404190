//! Subscription bookkeeping: the union every local subscription wants, what the server has
//! acknowledged (its all-kills listener included), and the next frame that brings the two together.

use std::collections::{BTreeMap, BTreeSet};

use wk_types::phoenix::{CharactersReply, JoinParams, SystemsReply};
use wk_types::{CharacterId, SystemId};

use crate::filter::Filter;

/// Most ids per outgoing frame. 8,000 ten-digit ids make a frame of about 90 KB, well under the
/// server's 128 KiB inbound limit (PROTOCOL.md §7.4), and under its 10,000-per-message count limit.
pub(crate) const CHUNK: usize = 8_000;

/// The union of every local subscription's ids, with reference counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interest {
    systems: BTreeMap<SystemId, u32>,
    characters: BTreeMap<CharacterId, u32>,
}

impl Interest {
    pub(crate) fn add(&mut self, filter: &Filter) {
        for s in filter.system_ids() {
            *self.systems.entry(s).or_default() += 1;
        }
        for c in filter.character_ids() {
            *self.characters.entry(c).or_default() += 1;
        }
    }

    pub(crate) fn remove(&mut self, filter: &Filter) {
        for s in filter.system_ids() {
            if let Some(n) = self.systems.get_mut(&s) {
                *n -= 1;
                if *n == 0 {
                    self.systems.remove(&s);
                }
            }
        }
        for c in filter.character_ids() {
            if let Some(n) = self.characters.get_mut(&c) {
                *n -= 1;
                if *n == 0 {
                    self.characters.remove(&c);
                }
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.systems.is_empty() && self.characters.is_empty()
    }

    pub(crate) fn has_system(&self, s: SystemId) -> bool {
        self.systems.contains_key(&s)
    }

    pub(crate) fn has_character(&self, c: CharacterId) -> bool {
        self.characters.contains_key(&c)
    }

    pub(crate) fn systems(&self) -> impl Iterator<Item = SystemId> + '_ {
        self.systems.keys().copied()
    }

    /// Join params carrying the first chunk of each list; the rest follows as subscribe pushes.
    /// Systems and characters go in one join, so the server never starts its all-kills listener
    /// for characters only to stop it a moment later.
    pub(crate) fn join_params(&self) -> JoinParams {
        JoinParams::new(
            self.systems.keys().copied().take(CHUNK),
            self.characters.keys().copied().take(CHUNK),
        )
    }
}

/// What the server has confirmed for the current join.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Acked {
    pub(crate) systems: BTreeSet<SystemId>,
    pub(crate) characters: BTreeSet<CharacterId>,
    /// Whether the server has an all-kills listener, without which it delivers no character kill
    /// outside the subscribed systems (PROTOCOL.md §7.4, §7.6): started by a join with characters
    /// and no systems, and by each `subscribe_characters` that adds ids while no system is held;
    /// stopped when the first system is added, and never restarted by removing systems again.
    pub(crate) listening: bool,
}

impl Acked {
    pub(crate) fn from_join(params: &JoinParams) -> Self {
        Self {
            systems: params.systems.iter().copied().collect(),
            characters: params.character_ids.iter().copied().collect(),
            listening: params.systems.is_empty() && !params.character_ids.is_empty(),
        }
    }

    pub(crate) fn covers(&self, filter: &Filter) -> bool {
        filter.system_ids().all(|s| self.systems.contains(&s))
            && filter.character_ids().all(|c| self.characters.contains(&c))
    }

    /// Applies the reply to a systems push that sent `ids`.
    pub(crate) fn apply_systems(
        &mut self,
        subscribe: bool,
        ids: &[SystemId],
        reply: &SystemsReply,
    ) {
        let had_systems = !self.systems.is_empty();
        match reply {
            SystemsReply::Updated { subscribed_systems } => {
                self.systems = subscribed_systems.iter().copied().collect();
            }
            _ if subscribe => self.systems.extend(ids.iter().copied()),
            _ => {
                for id in ids {
                    self.systems.remove(id);
                }
            }
        }
        if !had_systems && !self.systems.is_empty() {
            self.listening = false;
        }
    }

    /// Applies the reply to a characters push that sent `ids`.
    pub(crate) fn apply_characters(
        &mut self,
        subscribe: bool,
        ids: &[CharacterId],
        reply: &CharactersReply,
    ) {
        match reply {
            CharactersReply::Updated {
                subscribed_characters,
            } => {
                if subscribe && self.systems.is_empty() {
                    self.listening = true;
                }
                self.characters = subscribed_characters.iter().copied().collect();
            }
            _ if subscribe => self.characters.extend(ids.iter().copied()),
            _ => {
                for id in ids {
                    self.characters.remove(id);
                }
            }
        }
    }
}

/// The next thing to send to bring the server to the local interest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to do.
    Idle,
    /// Join again from scratch (see [`next_step`]).
    Rejoin,
    /// `subscribe_systems` / `unsubscribe_systems` with these ids.
    Systems { subscribe: bool, ids: Vec<SystemId> },
    /// `subscribe_characters` / `unsubscribe_characters` with these ids.
    Characters {
        subscribe: bool,
        ids: Vec<CharacterId>,
    },
}

/// Compares the interest with what the server acknowledged and picks one frame's worth of work.
///
/// Characters without systems need the server's all-kills listener, which removing the last system
/// does not restart (PROTOCOL.md §7.6): removing it while characters are held rejoins instead, and
/// so does a channel left with characters, no systems and no listener (an explicit
/// `unsubscribe_systems` of the last system), unless a `subscribe_characters` still to send adds
/// one.
pub(crate) fn next_step(want: &Interest, acked: &Acked) -> Step {
    if want.systems.is_empty() && !want.characters.is_empty() && !acked.listening {
        let adds_characters = want
            .characters
            .keys()
            .any(|c| !acked.characters.contains(c));
        if !acked.systems.is_empty() || !adds_characters {
            return Step::Rejoin;
        }
    }
    let add: Vec<SystemId> = want
        .systems
        .keys()
        .filter(|s| !acked.systems.contains(s))
        .take(CHUNK)
        .copied()
        .collect();
    if !add.is_empty() {
        return Step::Systems {
            subscribe: true,
            ids: add,
        };
    }
    let add: Vec<CharacterId> = want
        .characters
        .keys()
        .filter(|c| !acked.characters.contains(c))
        .take(CHUNK)
        .copied()
        .collect();
    if !add.is_empty() {
        return Step::Characters {
            subscribe: true,
            ids: add,
        };
    }
    let drop: Vec<SystemId> = acked
        .systems
        .iter()
        .filter(|s| !want.has_system(**s))
        .take(CHUNK)
        .copied()
        .collect();
    if !drop.is_empty() {
        return Step::Systems {
            subscribe: false,
            ids: drop,
        };
    }
    let drop: Vec<CharacterId> = acked
        .characters
        .iter()
        .filter(|c| !want.has_character(**c))
        .take(CHUNK)
        .copied()
        .collect();
    if !drop.is_empty() {
        return Step::Characters {
            subscribe: false,
            ids: drop,
        };
    }
    Step::Idle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(ids: &[i64]) -> Vec<SystemId> {
        ids.iter().copied().map(SystemId::new).collect()
    }

    #[test]
    fn union_is_reference_counted() {
        let a = Filter::new().systems(sys(&[1, 2]));
        let b = Filter::new().systems(sys(&[2, 3]));
        let mut want = Interest::default();
        want.add(&a);
        want.add(&b);
        assert_eq!(want.systems().count(), 3);
        want.remove(&a);
        assert_eq!(want.systems().collect::<Vec<_>>(), sys(&[2, 3]));
    }

    #[test]
    fn steps_add_then_remove() {
        let mut want = Interest::default();
        want.add(&Filter::new().systems(sys(&[1, 2])));
        let mut acked = Acked::default();
        acked.systems.insert(SystemId::new(9));
        assert_eq!(
            next_step(&want, &acked),
            Step::Systems {
                subscribe: true,
                ids: sys(&[1, 2])
            }
        );
        acked.systems.extend(sys(&[1, 2]));
        assert_eq!(
            next_step(&want, &acked),
            Step::Systems {
                subscribe: false,
                ids: sys(&[9])
            }
        );
        acked.systems.remove(&SystemId::new(9));
        assert_eq!(next_step(&want, &acked), Step::Idle);
    }

    #[test]
    fn large_sets_are_chunked() {
        let mut want = Interest::default();
        want.add(&Filter::new().characters((0..50_000).map(|i| CharacterId::new(90_000_000 + i))));
        let params = want.join_params();
        assert_eq!(params.character_ids.len(), CHUNK);
        let frame = serde_json::to_string(&params).unwrap();
        assert!(
            frame.len() < wk_types::validate::MAX_INBOUND_FRAME - 200,
            "{}",
            frame.len()
        );
        let mut acked = Acked::from_join(&params);
        let mut pushes = 0;
        while let Step::Characters {
            subscribe: true,
            ids,
        } = next_step(&want, &acked)
        {
            assert!(ids.len() <= CHUNK);
            acked.characters.extend(ids);
            pushes += 1;
        }
        assert_eq!(pushes, 6);
        assert_eq!(acked.characters.len(), 50_000);
    }

    #[test]
    fn dropping_the_last_system_with_characters_rejoins() {
        let mut want = Interest::default();
        want.add(&Filter::new().characters([CharacterId::new(95_465_499)]));
        let acked = Acked {
            systems: sys(&[1]).into_iter().collect(),
            characters: [CharacterId::new(95_465_499)].into_iter().collect(),
            listening: false,
        };
        assert_eq!(next_step(&want, &acked), Step::Rejoin);
    }

    #[test]
    fn characters_without_systems_or_listener_rejoin() {
        let pilot = CharacterId::new(95_465_499);
        let mut want = Interest::default();
        want.add(&Filter::new().characters([pilot]));
        // Joined with a system and the character; the system then went by an explicit unsubscribe.
        let mut acked = Acked::from_join(&JoinParams::new(sys(&[1]), [pilot]));
        assert!(!acked.listening);
        acked.apply_systems(
            false,
            &sys(&[1]),
            &SystemsReply::Updated {
                subscribed_systems: vec![],
            },
        );
        assert!(!acked.listening, "removing systems starts no listener");
        assert_eq!(next_step(&want, &acked), Step::Rejoin);

        // A characters-only join listens; the first system stops it.
        let mut acked = Acked::from_join(&JoinParams::new([], [pilot]));
        assert!(acked.listening);
        assert_eq!(next_step(&want, &acked), Step::Idle);
        acked.apply_systems(
            true,
            &sys(&[1]),
            &SystemsReply::Updated {
                subscribed_systems: sys(&[1]),
            },
        );
        assert!(!acked.listening);

        // With nothing held, a subscribe_characters push starts the listener: no rejoin needed.
        let acked = Acked::default();
        assert_eq!(
            next_step(&want, &acked),
            Step::Characters {
                subscribe: true,
                ids: vec![pilot]
            }
        );
        let mut acked = acked;
        acked.apply_characters(
            true,
            &[pilot],
            &CharactersReply::Updated {
                subscribed_characters: vec![pilot],
            },
        );
        assert!(acked.listening);
        assert_eq!(next_step(&want, &acked), Step::Idle);
    }

    #[test]
    fn replies_update_the_acked_set() {
        let mut acked = Acked::default();
        acked.apply_systems(
            true,
            &sys(&[1]),
            &SystemsReply::Unchanged {
                message: "Already subscribed to all requested systems".into(),
            },
        );
        assert!(acked.systems.contains(&SystemId::new(1)));
        acked.apply_systems(
            true,
            &sys(&[2]),
            &SystemsReply::Updated {
                subscribed_systems: sys(&[1, 2, 3]),
            },
        );
        assert_eq!(acked.systems.len(), 3);
        acked.apply_systems(
            false,
            &sys(&[3]),
            &SystemsReply::Unchanged {
                message: "Not subscribed".into(),
            },
        );
        assert_eq!(acked.systems.len(), 2);
    }
}
