// Invalid ids: phx_error and no reply on the real servers (the channel crashes; the payload is
// {"reason":"channel_crash"} on Phoenix 1.8, {} on 1.7), an error reply in designed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, join, push, startServer, until } from "../lib/helpers.mjs";

for (const [profile, crashPayload] of [["faithful", { reason: "channel_crash" }], ["legacy", {}]]) describe(`invalid ids (${profile})`, () => {
  let server;
  let socket;
  before(async () => {
    server = await startServer(profile);
    socket = connect(server.wsBase);
  });
  after(async () => {
    socket.disconnect();
    await server.stop();
  });

  it("crashes the channel: onError fires, the push gets no reply, the client rejoins", async () => {
    const channel = socket.channel("killmails:lobby", { systems: [30000142] });
    const errors = [];
    let joins = 0;
    channel.onError((payload) => { errors.push(payload); });
    const first = await join(channel);
    assert.equal(first.status, "ok");
    channel.joinPush.receive("ok", () => { joins += 1; });
    const r = await push(channel, "subscribe_systems", { systems: [0] }, 800);
    assert.equal(r.status, "timeout");
    assert.deepEqual(errors, [crashPayload]);
    await until(() => joins >= 1 && channel.state === "joined", 5000, "automatic rejoin");
    const status = await push(channel, "get_status", {});
    assert.deepEqual(status.response.subscribed_systems, [30000142]);
    channel.leave();
  });

  it("rejects a bad join with a validation reason", async () => {
    const channel = socket.channel("killmails:lobby", { systems: [60000000] });
    const r = await join(channel);
    assert.deepEqual(r, { status: "error", response: { reason: "[validation:invalid_system_ids] Invalid system IDs" } });
    channel.leave();
  });
});

describe("invalid ids (designed)", () => {
  let server;
  let socket;
  before(async () => {
    server = await startServer("designed");
    socket = connect(server.wsBase);
  });
  after(async () => {
    socket.disconnect();
    await server.stop();
  });

  it("answers an error reply and keeps the channel", async () => {
    const channel = socket.channel("killmails:lobby", { systems: [30000142] });
    let errors = 0;
    channel.onError(() => { errors += 1; });
    assert.equal((await join(channel)).status, "ok");
    const r = await push(channel, "subscribe_characters", { character_ids: [11111111] });
    assert.deepEqual(r, { status: "error", response: { reason: "[validation:invalid_character_ids] Invalid character IDs" } });
    const unknown = await push(channel, "update_subscriptions", { add_systems: [1] });
    assert.equal(unknown.status, "error");
    assert.equal(errors, 0);
    assert.equal((await push(channel, "get_status", {})).status, "ok");
    channel.leave();
  });
});
