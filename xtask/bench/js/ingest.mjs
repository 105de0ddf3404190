// ws_ingest baseline: the official Phoenix client (npm `phoenix` over `ws`) counts the firehose's
// killmail_update frames. Phoenix's serializer JSON.parses every frame; the callback only counts.
//
// usage: node ingest.mjs BASE_URL WS_URL FRAMES [COPIES]   (prints one JSON object)
import { Socket } from "phoenix";
import WebSocket from "ws";

const [base, wsUrl, framesArg, copiesArg] = process.argv.slice(2);
const frames = Number(framesArg);
const copies = Number(copiesArg ?? 1);
const socket = new Socket(wsUrl.replace(/\/websocket$/, ""), {
  transport: WebSocket,
  params: { client_id: "wk-bench" },
  reconnectAfterMs: () => 60000,
});
socket.connect();
const channel = socket.channel("killmails:lobby", {});
let seen = 0;
let first = 0n;
let cpu0;
const done = new Promise((resolve) => {
  channel.on("killmail_update", (payload) => {
    if (payload.killmails.length === 0) return;
    seen += 1;
    if (seen === 1) first = process.hrtime.bigint();
    if (seen === frames) resolve(process.hrtime.bigint());
  });
});
await new Promise((resolve, reject) => {
  channel.join(10000).receive("ok", resolve).receive("error", reject).receive("timeout", () => reject(new Error("join timeout")));
});
cpu0 = process.cpuUsage();
const r = await fetch(`${base}/_testkit/firehose`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ frames, copies }),
});
if (r.status !== 202) throw new Error(`firehose: ${r.status}`);
const timer = setTimeout(() => { console.error(`stalled after ${seen} frames`); process.exit(1); }, 120000);
const last = await done;
clearTimeout(timer);
const cpu = process.cpuUsage(cpu0);
const elapsed = Number(last - first) / 1e9;
console.log(JSON.stringify({
  frames,
  frames_per_s: (frames - 1) / elapsed,
  cpu_s_per_million: ((cpu.user + cpu.system) / 1e6) / frames * 1e6,
  node: process.version,
}));
socket.disconnect();
process.exit(0);
