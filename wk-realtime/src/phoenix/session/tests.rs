//! Transcript tests of the session core: frames and time in, frames, events and deadlines out. No
//! socket and no runtime: the clock is a plain `Instant` the test moves.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wk_types::{CharacterId, SystemId};

use super::*;

impl Token for u32 {
    fn cancelled(&self) -> bool {
        false
    }
}

const JITA: SystemId = SystemId::new(30000142);
const TAMA: SystemId = SystemId::new(30002813);
const PILOT: CharacterId = CharacterId::new(95465499);
const REPLY: Duration = Duration::from_secs(1);

fn config() -> SessionConfig {
    SessionConfig {
        machine: MachineConfig {
            heartbeat_interval: Duration::from_secs(30),
            heartbeat_timeout: Duration::from_secs(30),
            reply_timeout: REPLY,
        },
        backoff: BackoffConfig::default()
            .base(Duration::from_secs(1))
            .max(Duration::from_secs(30))
            .min(Duration::from_millis(100))
            .seed(7),
        stable_after: Duration::from_secs(30),
        call_wait: Some(Duration::from_secs(10)),
        gap_recovery: true,
        recovery_interval: Duration::from_secs(5),
        retry_refused: None,
    }
}

/// A session, its clock, and helpers to read what it did.
struct Script {
    s: Session<u32>,
    now: Instant,
    stats: Arc<Shared>,
}

impl Script {
    fn new() -> Self {
        let now = Instant::now();
        let stats = Arc::new(Shared::default());
        Self {
            s: Session::new(config(), stats.clone(), now),
            now,
            stats,
        }
    }

    /// Dialled and open.
    fn up() -> Self {
        let mut t = Self::new();
        t.s.dialing();
        t.s.opened(t.now);
        t.events();
        t
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.s.handle_timeout(self.now);
    }

    /// Moves the clock to the session's next deadline.
    fn until_deadline(&mut self) -> Duration {
        let at = self.s.poll_timeout().expect("a deadline");
        let d = at.saturating_duration_since(self.now);
        self.advance(d);
        d
    }

    fn sent(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.s.poll_transmit())
            .map(|f| serde_json::from_str(&f).unwrap())
            .collect()
    }

    fn events(&mut self) -> Vec<Event<u32>> {
        std::iter::from_fn(|| self.s.poll_event()).collect()
    }

    /// The calls done, each with its result in `Debug` form.
    fn done(&mut self) -> Vec<(u32, String)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Done { token, result } => Some((token, format!("{result:?}"))),
                _ => None,
            })
            .collect()
    }

    fn frame(&mut self, frame: &Value) {
        let text = frame.to_string();
        assert!(self.s.handle_text(&text, self.now).unwrap().is_none());
    }

    /// The reply to the join `jr`, accepting `systems` and `characters`.
    fn join_ok(&mut self, jr: &Value, systems: &[SystemId], characters: &[CharacterId]) {
        self.frame(
            &json!([jr, jr, "killmails:lobby", "phx_reply", {"status": "ok", "response": {
            "status": "connected", "subscription_id": "Zt0h1yQv9xWcB3m6pL2sNA",
            "subscribed_systems": systems, "subscribed_characters": characters}}]),
        );
    }

    fn reply(&mut self, sent: &Value, response: &Value) {
        self.frame(&json!([sent[0], sent[1], "killmails:lobby", "phx_reply", {"status": "ok", "response": response}]));
    }

    fn crash(&mut self, jr: &Value) {
        self.frame(&json!([jr, jr, "killmails:lobby", "phx_error", {"reason": "channel_crash"}]));
    }

    fn joined_with(&mut self, systems: &[SystemId], characters: &[CharacterId]) -> Value {
        let sent = self.sent();
        let [join] = sent.as_slice() else {
            panic!("one join: {sent:?}")
        };
        assert_eq!(join[3], "phx_join");
        assert_eq!(join[4]["systems"], json!(systems), "{join}");
        assert_eq!(join[4]["character_ids"], json!(characters), "{join}");
        let jr = join[0].clone();
        self.join_ok(&jr, systems, characters);
        jr
    }
}

fn states(events: &[Event<u32>]) -> Vec<ConnectionState> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::State(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_joins_until_a_subscription_and_the_join_carries_it_whole() {
    let mut t = Script::up();
    assert!(t.sent().is_empty(), "an idle socket sends no join");
    assert!(t.s.subscribe(1, Filter::new().systems([JITA]), t.now));
    // A second subscription while the join is in flight waits for it, then follows as a push.
    assert!(t.s.subscribe(2, Filter::new().systems([TAMA]), t.now));
    let jr = t.joined_with(&[JITA], &[]);
    assert_eq!(t.done(), [(1, "Ok(Subscribed)".into())]);
    let sent = t.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0][0], jr, "the current join_ref");
    assert_eq!(sent[0][3], "subscribe_systems");
    assert_eq!(sent[0][4], json!({"systems": [TAMA]}));
    t.reply(&sent[0], &json!({"subscribed_systems": [JITA, TAMA]}));
    assert_eq!(t.done(), [(2, "Ok(Subscribed)".into())]);
    assert!(t.sent().is_empty(), "nothing redundant follows");
    assert_eq!(Shared::snapshot(&t.stats).joins, 1);
}

#[test]
fn refs_are_strings_and_pushes_name_the_current_join() {
    let mut t = Script::up();
    t.s.subscribe(1, Filter::new().systems([JITA]), t.now);
    let jr = t.joined_with(&[JITA], &[]);
    t.s.call(2, Op::Status, None, t.now);
    let sent = t.sent();
    assert!(sent[0][0].is_string() && sent[0][1].is_string(), "{sent:?}");
    assert_eq!(sent[0][0], jr);
}

#[test]
fn a_reply_timeout_fails_the_call_and_rejoins_with_the_full_set() {
    let mut t = Script::up();
    t.s.subscribe(1, Filter::new().systems([JITA]), t.now);
    let jr = t.joined_with(&[JITA], &[]);
    t.events();
    let before = Filter::new();
    let after = Filter::new().systems([TAMA]);
    t.s.call(
        2,
        Op::Systems {
            subscribe: true,
            ids: vec![TAMA],
        },
        Some((&before, &after)),
        t.now,
    );
    assert_eq!(t.sent()[0][3], "subscribe_systems");
    // Silence, as Phoenix 1.8 gives a push with a stale join_ref.
    assert_eq!(t.until_deadline(), REPLY);
    let events = t.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Done {
                    token: 2,
                    result: Err(Error::Timeout)
                },
                ..
            ]
        ),
        "{events:?}"
    );
    let rejoin = t.joined_with(&[JITA, TAMA], &[]);
    assert_ne!(rejoin, jr, "a new join");
    let events = t.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Recover { systems, .. } if *systems == [JITA, TAMA])),
        "the replaced join is recovered: {events:?}"
    );
    assert!(t.sent().is_empty());
}

#[test]
fn a_crash_rejoins_after_a_growing_backoff_that_resets_once_stable() {
    let mut t = Script::up();
    t.s.subscribe(1, Filter::new().systems([JITA]), t.now);
    let mut jr = t.joined_with(&[JITA], &[]);
    t.events();
    let mut delays = Vec::new();
    for _ in 0..6 {
        t.crash(&jr);
        let events = t.events();
        let Some(ConnectionState::Rejoining { attempt, delay }) = states(&events).pop() else {
            panic!("{events:?}")
        };
        assert_eq!(attempt as usize, delays.len() + 1);
        assert!(t.sent().is_empty(), "no rejoin at once");
        assert_eq!(t.until_deadline(), delay);
        delays.push(delay);
        jr = t.joined_with(&[JITA], &[]);
        t.events();
    }
    // Full jitter under a doubling ceiling: six crashes take more than a few hundred ms, and the
    // last waits are long.
    let ceilings = [1, 2, 4, 8, 16, 30];
    for (d, c) in delays.iter().zip(ceilings) {
        assert!(*d <= Duration::from_secs(c), "{delays:?}");
    }
    assert!(
        delays.iter().sum::<Duration>() > Duration::from_secs(3),
        "{delays:?}"
    );
    // Joined for the stable period: the next crash starts over.
    t.advance(Duration::from_secs(31));
    t.crash(&jr);
    let events = t.events();
    assert_eq!(
        states(&events)
            .pop()
            .map(|s| matches!(s, ConnectionState::Rejoining { attempt: 1, .. })),
        Some(true),
        "{events:?}"
    );
}

#[test]
fn a_crash_is_recovered_at_most_once_per_interval() {
    let mut t = Script::up();
    t.s.subscribe(1, Filter::new().systems([JITA]), t.now);
    let mut jr = t.joined_with(&[JITA], &[]);
    let recoveries = |events: &[Event<u32>]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Recover { .. }))
            .count()
    };
    let mut total = 0;
    for _ in 0..3 {
        t.crash(&jr);
        t.until_deadline();
        jr = t.joined_with(&[JITA], &[]);
        total += recoveries(&t.events());
    }
    assert_eq!(total, 1, "the first at once, the others deferred");
    // The deferred one comes due once the interval passed, as one fetch.
    while total < 2 {
        t.until_deadline();
        total += recoveries(&t.events());
    }
    assert!(
        t.sent().iter().all(|f| f[2] == "phoenix"),
        "only heartbeats"
    );
}

#[test]
fn subscriptions_too_large_for_a_frame_go_in_chunks() {
    let mut t = Script::up();
    let many: Vec<CharacterId> = (0..20_000)
        .map(|i| CharacterId::new(90_000_000 + i))
        .collect();
    t.s.subscribe(1, Filter::new().characters(many.clone()), t.now);
    let sent = t.sent();
    assert_eq!(sent[0][3], "phx_join");
    let first = sent[0][4]["character_ids"].as_array().unwrap().len();
    assert_eq!(first, CHUNK);
    t.join_ok(&sent[0][0], &[], &many[..CHUNK]);
    let mut pushes = 0;
    loop {
        let sent = t.sent();
        let Some(push) = sent.first() else { break };
        assert_eq!(push[3], "subscribe_characters");
        let ids = push[4]["character_ids"].as_array().unwrap();
        assert!(ids.len() <= CHUNK);
        assert!(push.to_string().len() < wk_types::validate::MAX_INBOUND_FRAME);
        pushes += 1;
        t.reply(push, &json!({"message": "ok"}));
    }
    assert_eq!(pushes, 2);
    assert_eq!(t.done(), [(1, "Ok(Subscribed)".into())]);
}

#[test]
fn dropping_the_last_system_while_holding_characters_rejoins_for_characters_only() {
    let mut t = Script::up();
    let both = Filter::new().systems([JITA]).characters([PILOT]);
    t.s.subscribe(1, both.clone(), t.now);
    t.joined_with(&[JITA], &[PILOT]);
    let chars = Filter::new().characters([PILOT]);
    t.s.call(
        2,
        Op::Systems {
            subscribe: false,
            ids: vec![JITA],
        },
        Some((&both, &chars)),
        t.now,
    );
    let sent = t.sent();
    assert_eq!(sent[0][3], "unsubscribe_systems");
    t.reply(&sent[0], &json!({"subscribed_systems": []}));
    // The server's all-kills listener does not come back: join again with characters only.
    t.joined_with(&[], &[PILOT]);
}

#[test]
fn a_call_queued_before_a_rejoin_that_carried_it_is_answered_without_a_push() {
    let mut t = Script::up();
    let jita = Filter::new().systems([JITA]);
    t.s.subscribe(1, jita.clone(), t.now);
    let jr = t.joined_with(&[JITA], &[]);
    t.crash(&jr);
    t.events();
    let both = Filter::new().systems([JITA, TAMA]);
    t.s.call(
        2,
        Op::Systems {
            subscribe: true,
            ids: vec![TAMA],
        },
        Some((&jita, &both)),
        t.now,
    );
    t.until_deadline();
    t.joined_with(&[JITA, TAMA], &[]);
    let done = t.done();
    assert_eq!(done.len(), 1);
    assert!(done[0].1.starts_with("Ok(Op(Systems(Updated"), "{done:?}");
    assert!(t.sent().is_empty(), "no subscribe_systems after the join");
}

#[test]
fn the_first_failed_attempt_answers_connect_and_ends_the_session() {
    let mut t = Script::new();
    assert_eq!(t.s.dial_at(), Some(t.now));
    t.s.dialing();
    t.s.dial_failed(Error::NotConnected, t.now);
    let events = t.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::State(ConnectionState::Connecting { attempt: 1 }),
                Event::Ready(Err(_)),
                Event::State(ConnectionState::Closed)
            ]
        ),
        "{events:?}"
    );
    assert!(t.s.is_closed());
    assert_eq!(t.s.dial_at(), None);
}

#[test]
fn attempts_are_numbered_from_one_and_short_connections_do_not_reset_them() {
    let mut t = Script::up();
    let mut attempts = Vec::new();
    for _ in 0..3 {
        // A connection that lives a second: lost, then a failed attempt, then one that opens.
        t.now += Duration::from_secs(1);
        t.s.lost(t.now);
        t.now = t.s.dial_at().unwrap();
        t.s.dialing();
        t.s.dial_failed(Error::NotConnected, t.now);
        t.now = t.s.dial_at().unwrap();
        t.s.dialing();
        t.s.opened(t.now);
        attempts.extend(states(&t.events()).into_iter().filter_map(|s| match s {
            ConnectionState::Connecting { attempt } => Some(attempt),
            _ => None,
        }));
    }
    assert_eq!(attempts, [2, 3, 4, 5, 6, 7]);
    // A stable connection starts the count over.
    t.now += Duration::from_secs(31);
    t.s.lost(t.now);
    t.now = t.s.dial_at().unwrap();
    t.s.dialing();
    assert!(matches!(
        states(&t.events()).last(),
        Some(ConnectionState::Connecting { attempt: 1 })
    ));
}

#[test]
fn a_silent_heartbeat_marks_the_connection_dead() {
    let mut t = Script::up();
    t.advance(Duration::from_secs(30));
    let sent = t.sent();
    assert_eq!(sent[0][2], "phoenix");
    assert!(sent[0][0].is_null());
    assert!(!t.s.is_dead());
    t.advance(Duration::from_secs(30));
    assert!(t.s.is_dead());
}

#[test]
fn a_subscription_waits_through_a_lost_connection_then_times_out() {
    let mut t = Script::up();
    t.s.lost(t.now);
    t.events();
    assert!(t.s.subscribe(1, Filter::new().systems([JITA]), t.now));
    // Not connected for the whole call wait plus one reply timeout.
    t.advance(Duration::from_secs(11));
    assert_eq!(t.done(), [(1, "Err(NotConnected)".into())]);
    assert!(t.s.interest.is_empty(), "its ids are gone");
}

#[test]
fn a_refusal_no_retry_fixes_ends_the_session_and_every_call_gets_it() {
    let mut t = Script::up();
    // A call waiting for the connection when the refusal comes.
    t.s.lost(t.now);
    assert!(t.s.subscribe(7, Filter::new().systems([SystemId::new(30_000_142)]), t.now));
    t.events();
    t.now = t.s.dial_at().unwrap();
    t.s.dialing();
    t.s.dial_failed(Error::Url("refused".into()), t.now);
    let events = t.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::State(ConnectionState::Connecting { .. }),
                Event::Done {
                    token: 7,
                    result: Err(Error::Url(_))
                },
                Event::Ended(Error::Url(_)),
                Event::State(ConnectionState::Closed)
            ]
        ),
        "{events:?}"
    );
    assert!(t.s.is_closed());
    assert_eq!(t.s.dial_at(), None, "no further attempt");
}

#[test]
fn with_retry_refused_a_refusal_waits_the_long_delay() {
    let mut t = Script::new();
    t.s = Session::new(
        SessionConfig {
            retry_refused: Some(Duration::from_secs(600)),
            ..config()
        },
        t.stats.clone(),
        t.now,
    );
    t.s.dialing();
    t.s.opened(t.now);
    t.s.lost(t.now);
    t.now = t.s.dial_at().unwrap();
    t.s.dialing();
    t.s.dial_failed(Error::Url("refused".into()), t.now);
    let wait = t.s.dial_at().unwrap().saturating_duration_since(t.now);
    assert!(wait >= Duration::from_secs(600), "{wait:?}");
    assert!(!t.s.is_closed());
}
