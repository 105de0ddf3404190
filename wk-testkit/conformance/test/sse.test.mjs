// Raw SSE bytes of the basic stream against the protocol's byte-exact example (sse_stream.txt).
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { example, inject, startServer, until } from "../lib/helpers.mjs";

const count = (s, needle) => s.split(needle).length - 1;

// The example is v1.5.8's stream (each kill twice); v1.6.2 and designed send each kill once.
function exampleStream(copies) {
  const blocks = example("sse_stream.txt").match(/[^]*?\n\n/g);
  let out = "";
  let last = "";
  for (const block of blocks) {
    const data = block.startsWith("data: ");
    const repeat = data && block === last;
    last = block;
    if (!repeat) out += block.repeat(data ? copies : 1);
  }
  return out;
}

for (const [profile, copies] of [["legacy", 2], ["faithful", 1], ["designed", 1]]) describe(`basic SSE stream bytes (${profile})`, () => {
  let server;
  before(async () => {
    server = await startServer(profile, ["--sse-ping-ms", "600"]);
  });
  after(async () => {
    await server.stop();
  });

  it(`matches examples/sse_stream.txt byte for byte, each kill ${copies}×`, async () => {
    let body = "";
    let headers;
    const req = http.get(`${server.base}/api/v1/kills/stream?system_ids=30002813,30000142`, (res) => {
      headers = res.headers;
      res.setEncoding("utf8");
      res.on("data", (chunk) => { body += chunk; });
    });
    await until(() => body.startsWith("retry: 2000\n\n"), 5000, "retry line");
    assert.equal(headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(headers["cache-control"], "no-cache");
    assert.equal(headers["transfer-encoding"], "chunked");
    await inject(server.base, example("killmail.json"));
    await until(() => count(body, "data: ") === copies && count(body, ": ping\n\n") === 2, 5000, "the first kill and two pings");
    await inject(server.base, example("killmail_solo_capsule.json"));
    await until(() => count(body, "data: ") === 2 * copies && count(body, ": ping\n\n") === 3, 5000, "the second kill and three pings");
    req.destroy();
    const want = exampleStream(copies);
    if (copies === 2) assert.equal(want, example("sse_stream.txt"));
    assert.equal(body.slice(0, want.length), want);
  });
});
