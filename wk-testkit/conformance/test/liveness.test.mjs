// The idle timeout (--idle-timeout-ms 1500): heartbeats keep a socket alive, silence gets close 1000.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IDLE_MS, connect, join, sleep, startServer, until } from "../lib/helpers.mjs";

for (const profile of ["faithful", "legacy", "designed"]) describe(`liveness (${profile})`, () => {
  let server;
  before(async () => {
    server = await startServer(profile);
  });
  after(async () => {
    await server.stop();
  });

  it("heartbeats keep the socket open past 3× the idle timeout", async () => {
    const socket = connect(server.wsBase, { heartbeatIntervalMs: 300 });
    const closes = [];
    socket.onClose((e) => closes.push(e.code));
    const channel = socket.channel("killmails:lobby", {});
    assert.equal((await join(channel)).status, "ok");
    await sleep(3 * IDLE_MS + 200);
    assert.deepEqual(closes, []);
    assert.ok(socket.isConnected());
    socket.disconnect();
  });

  it("without heartbeats the server closes the socket with 1000", async () => {
    const socket = connect(server.wsBase, { heartbeatIntervalMs: 600000 });
    const closes = [];
    socket.onClose((e) => closes.push(e.code));
    await until(() => socket.isConnected(), 5000, "connect");
    await until(() => closes.length > 0, 3 * IDLE_MS, "server close");
    assert.equal(closes[0], 1000);
    socket.disconnect();
  });
});
