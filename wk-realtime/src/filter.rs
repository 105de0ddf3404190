//! What a subscription wants: systems, characters, or everything the connection receives.

use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasherDefault;

use wk_types::{CharacterId, Killmail, SystemId, ValidationError, validate};

use crate::dedup::IdHasher;

/// A subscription's interest. A kill matches when its system is listed or a listed character is
/// the victim or an attacker (the server's own OR rule, PROTOCOL.md §7.4), and, when a
/// [`Filter::min_value`] is set, its `zkb.totalValue` is at least that (applied on the client).
///
/// ```
/// use wk_realtime::Filter;
/// use wk_types::{SystemId, CharacterId};
/// let f = Filter::new().systems([SystemId::new(30000142)]).characters([CharacterId::new(95465499)]);
/// assert_eq!(f.system_ids().count(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Filter {
    systems: BTreeSet<SystemId>,
    /// Hashed with [`IdHasher`]: every kill checks its victim and each attacker here, and a
    /// subscription may hold tens of thousands of characters.
    characters: HashSet<CharacterId, BuildHasherDefault<IdHasher>>,
    everything: bool,
    min_value: Option<Isk>,
}

/// An ISK amount compared by bits, so [`Filter`] stays `Eq`.
#[derive(Clone, Copy, Debug)]
struct Isk(f64);

impl PartialEq for Isk {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Isk {}

impl Filter {
    /// An empty filter (matches nothing until ids are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// A filter that receives every kill the connection receives, whoever subscribed to it.
    pub fn everything() -> Self {
        Self {
            everything: true,
            ..Self::default()
        }
    }

    /// Adds systems.
    pub fn systems(mut self, ids: impl IntoIterator<Item = SystemId>) -> Self {
        self.systems.extend(ids);
        self
    }

    /// Adds characters.
    pub fn characters(mut self, ids: impl IntoIterator<Item = CharacterId>) -> Self {
        self.characters.extend(ids);
        self
    }

    /// Keeps only kills whose total value (`zkb.totalValue`, see [`Killmail::total_value`]) is at
    /// least `isk`; a kill without a value is dropped. Applied on the client by every transport.
    /// [`Filter::validate`] refuses a negative or non-finite amount.
    pub fn min_value(mut self, isk: f64) -> Self {
        self.min_value = Some(Isk(isk));
        self
    }

    /// The minimum value in ISK, if set.
    #[must_use]
    pub fn min_value_isk(&self) -> Option<f64> {
        self.min_value.map(|m| m.0)
    }

    /// The systems.
    pub fn system_ids(&self) -> impl ExactSizeIterator<Item = SystemId> + '_ {
        self.systems.iter().copied()
    }

    /// The characters, in no particular order.
    pub fn character_ids(&self) -> impl ExactSizeIterator<Item = CharacterId> + '_ {
        self.characters.iter().copied()
    }

    /// Whether this filter receives everything.
    #[must_use]
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// Whether a kill matches.
    #[must_use]
    pub fn matches(&self, killmail: &Killmail, system: Option<SystemId>) -> bool {
        if let Some(Isk(min)) = self.min_value
            && !killmail.total_value().is_some_and(|v| v >= min)
        {
            return false;
        }
        if self.everything {
            return true;
        }
        let system = killmail.system_id.or(system);
        system.is_some_and(|s| self.systems.contains(&s))
            || (!self.characters.is_empty()
                && killmail
                    .character_ids()
                    .any(|c| self.characters.contains(&c)))
    }

    /// Whether updates about `system` concern this filter.
    #[must_use]
    pub fn wants_system(&self, system: SystemId) -> bool {
        self.everything || self.systems.contains(&system)
    }

    /// Checks every id against the WebSocket's ranges (the per-message counts are handled by
    /// splitting).
    ///
    /// # Errors
    /// The first id outside its range, or a negative or non-finite minimum value.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(Isk(min)) = self.min_value
            && (!min.is_finite() || min < 0.0)
        {
            return Err(ValidationError::InvalidMinValue);
        }
        let systems: Vec<SystemId> = self.systems.iter().copied().collect();
        let characters: Vec<CharacterId> = self.characters.iter().copied().collect();
        for chunk in systems.chunks(validate::MAX_CHANNEL_SYSTEMS) {
            validate::channel_systems(chunk)?;
        }
        for chunk in characters.chunks(validate::MAX_CHANNEL_CHARACTERS) {
            validate::channel_characters(chunk)?;
        }
        Ok(())
    }

    #[cfg(feature = "ws")]
    pub(crate) fn add_systems(&mut self, ids: &[SystemId]) {
        self.systems.extend(ids.iter().copied());
    }

    #[cfg(feature = "ws")]
    pub(crate) fn remove_systems(&mut self, ids: &[SystemId]) {
        for id in ids {
            self.systems.remove(id);
        }
    }

    #[cfg(feature = "ws")]
    pub(crate) fn add_characters(&mut self, ids: &[CharacterId]) {
        self.characters.extend(ids.iter().copied());
    }

    #[cfg(feature = "ws")]
    pub(crate) fn remove_characters(&mut self, ids: &[CharacterId]) {
        for id in ids {
            self.characters.remove(id);
        }
    }
}
