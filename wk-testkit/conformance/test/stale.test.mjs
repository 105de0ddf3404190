// Raw V2 frames (no Phoenix client): a push carrying a join_ref that is not the current join's.
// Phoenix 1.8 (faithful, designed) drops it without a reply; Phoenix 1.7 (legacy) dispatches it on
// its topic alone and answers with the channel's join_ref.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startServer } from "../lib/helpers.mjs";

/** A raw socket that collects frames; `sync()` resolves with every frame before a heartbeat's reply. */
async function rawSocket(wsBase) {
  const ws = new WebSocket(`${wsBase}/websocket?vsn=2.0.0`);
  const frames = [];
  const waiters = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let syncs = 0;
  const next = (pred) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching frame")), 5000);
    const check = () => {
      const i = frames.findIndex(pred);
      if (i < 0) { waiters.push(check); return; }
      clearTimeout(timer);
      resolve(frames.splice(0, i + 1));
    };
    check();
  });
  return {
    send: (frame) => ws.send(JSON.stringify(frame)),
    next,
    async sync() {
      const ref = `sync-${++syncs}`;
      ws.send(JSON.stringify([null, ref, "phoenix", "heartbeat", {}]));
      const got = await next((f) => f[1] === ref);
      return got.slice(0, -1);
    },
    close: () => ws.close(),
  };
}

for (const [profile, answered] of [["faithful", false], ["legacy", true], ["designed", false]]) {
  describe(`stale join_ref (${profile})`, () => {
    let server;
    before(async () => { server = await startServer(profile); });
    after(async () => { await server.stop(); });

    it(answered ? "is still answered" : "gets no reply", async () => {
      const ws = await rawSocket(server.wsBase);
      ws.send(["1", "1", "killmails:lobby", "phx_join", {}]);
      await ws.next((f) => f[1] === "1" && f[3] === "phx_reply");
      ws.send(["2", "2", "killmails:lobby", "phx_join", { systems: [30000142] }]);
      await ws.next((f) => f[0] === "1" && f[3] === "phx_close");
      for (const joinRef of ["1", null, 2]) {
        ws.send([joinRef, "s", "killmails:lobby", "get_status", {}]);
        const got = await ws.sync();
        if (answered) {
          assert.equal(got.length, 1, JSON.stringify(got));
          assert.equal(got[0][0], "2");
          assert.deepEqual(got[0][4].response.subscribed_systems, [30000142]);
        } else {
          assert.deepEqual(got, [], `join_ref ${JSON.stringify(joinRef)}`);
        }
      }
      ws.send(["2", "c", "killmails:lobby", "get_status", {}]);
      const current = await ws.next((f) => f[1] === "c");
      assert.equal(current.at(-1)[4].status, "ok");
      ws.close();
    });
  });
}
