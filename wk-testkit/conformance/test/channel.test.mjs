// Join, subscribe/unsubscribe replies and get_status through the official Phoenix client.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, join, push, startServer } from "../lib/helpers.mjs";

for (const profile of ["faithful", "legacy", "designed"]) {
  describe(`killmails:lobby replies (${profile})`, () => {
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

    it("joins with systems and characters", async () => {
      const channel = socket.channel("killmails:lobby", { systems: [30000142, 30002813, 30000142], character_ids: [95465499] });
      const { status, response } = await join(channel);
      assert.equal(status, "ok");
      assert.equal(response.status, "connected");
      assert.deepEqual(response.subscribed_systems, [30000142, 30002813]);
      assert.deepEqual(response.subscribed_characters, [95465499]);
      assert.match(response.subscription_id, /^[A-Za-z0-9_-]{22}$/);
      channel.leave();
    });

    it("answers every subscribe/unsubscribe and get_status", async () => {
      const channel = socket.channel("killmails:lobby", { systems: [30000142] });
      assert.equal((await join(channel)).status, "ok");
      let r = await push(channel, "subscribe_systems", { systems: [30000144] });
      assert.deepEqual(r, { status: "ok", response: { subscribed_systems: [30000142, 30000144] } });
      r = await push(channel, "subscribe_systems", { systems: [30000144] });
      assert.deepEqual(r, { status: "ok", response: { message: "Already subscribed to all requested systems" } });
      r = await push(channel, "unsubscribe_systems", { systems: [30000144] });
      assert.deepEqual(r, { status: "ok", response: { subscribed_systems: [30000142] } });
      r = await push(channel, "unsubscribe_systems", { systems: [30000144] });
      assert.deepEqual(r, { status: "ok", response: { message: "Not subscribed to any of the requested systems" } });
      r = await push(channel, "subscribe_characters", { character_ids: [95465499] });
      assert.deepEqual(r, { status: "ok", response: { subscribed_characters: [95465499] } });
      r = await push(channel, "subscribe_characters", { character_ids: [95465499] });
      assert.deepEqual(r, { status: "ok", response: { message: "Already subscribed to all requested characters" } });
      r = await push(channel, "unsubscribe_characters", { character_ids: [95465499] });
      assert.deepEqual(r, { status: "ok", response: { subscribed_characters: [] } });
      r = await push(channel, "unsubscribe_characters", { character_ids: [95465499] });
      assert.deepEqual(r, { status: "ok", response: { message: "Not subscribed to any of the requested characters" } });
      r = await push(channel, "get_status", {});
      assert.equal(r.status, "ok");
      assert.deepEqual(r.response.subscribed_systems, [30000142]);
      assert.deepEqual(r.response.subscribed_characters, []);
      assert.match(r.response.user_id, /^js-conformance_\d+_[A-Za-z0-9_-]{11}$/);
      assert.match(r.response.connected_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(r.response.subscription_id, /^[A-Za-z0-9_-]{22}$/);
      channel.leave();
    });
  });
}
