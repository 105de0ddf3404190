// Live pushes after POST /_testkit/killmails: ×2 per kill in faithful (v1.6.2), ×4 in legacy (v1.5.8),
// once (plus kill_count_update) in designed; characters-only ×1, ×2, ×1.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, example, inject, join, sleep, startServer, until } from "../lib/helpers.mjs";

for (const [profile, copies, characterCopies] of [["faithful", 2, 1], ["legacy", 4, 2], ["designed", 1, 1]]) {
  describe(`live killmail_update (${profile})`, () => {
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

    it(`receives each kill ${copies}×`, async () => {
      const channel = socket.channel("killmails:lobby", { systems: [30002813] });
      const updates = [];
      const counts = [];
      channel.on("killmail_update", (payload) => updates.push(payload));
      channel.on("kill_count_update", (payload) => counts.push(payload));
      assert.equal((await join(channel)).status, "ok");
      await inject(server.base, `[${example("killmail.json")}, ${example("killmail_solo_capsule.json")}]`);
      await until(() => updates.length >= copies, 5000, `${copies} killmail_update pushes`);
      await sleep(300);
      assert.equal(updates.length, copies);
      for (const u of updates) {
        assert.equal(u.preload, false);
        assert.equal(u.system_id, 30002813);
        assert.equal(u.killmails.length, 1);
        assert.equal(u.killmails[0].killmail_id, 131588274);
        assert.equal(u.killmails[0].zkb.totalValue, 13645977.48);
      }
      assert.equal(counts.length, profile === "designed" ? 1 : 0);
      if (profile !== "designed") {
        // The copies come in pairs of identical payloads (same timestamp).
        for (let i = 0; i < updates.length; i += 2) assert.deepEqual(updates[i], updates[i + 1]);
      }
      channel.leave();
    });

    it(`receives each kill of a followed character ${characterCopies}× on a characters-only join`, async () => {
      const channel = socket.channel("killmails:lobby", { character_ids: [95465499] });
      const updates = [];
      channel.on("killmail_update", (payload) => updates.push(payload));
      assert.equal((await join(channel)).status, "ok");
      await inject(server.base, example("killmail.json"));
      await until(() => updates.length >= characterCopies, 5000, `${characterCopies} killmail_update pushes`);
      await sleep(300);
      assert.equal(updates.length, characterCopies);
      assert.equal(updates[0].killmails[0].killmail_id, 131588274);
      channel.leave();
    });
  });
}
