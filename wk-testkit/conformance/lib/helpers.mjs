// Shared helpers: start the wk-testkit binary, talk to it with the official Phoenix client.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join as pathJoin } from "node:path";
import { fileURLToPath } from "node:url";
import { Socket } from "phoenix";
import WebSocket from "ws";

const here = dirname(fileURLToPath(import.meta.url));
export const IDLE_MS = 1500;

function binary() {
  if (process.env.WK_TESTKIT_BIN) return process.env.WK_TESTKIT_BIN;
  return pathJoin(here, "..", "..", "..", "target", "debug", "wk-testkit");
}

/** Starts `wk-testkit --profile <profile>` on a free port; resolves once its first line is printed. */
export function startServer(profile, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary(), ["--addr", "127.0.0.1:0", "--profile", profile, "--idle-timeout-ms", String(IDLE_MS), ...extraArgs], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`wk-testkit did not start: ${out}`)), 10000);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.stdout.on("data", (chunk) => {
      out += chunk.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      const line = out.slice(0, nl);
      const base = /base_url=(\S+)/.exec(line)?.[1];
      const wsUrl = /ws_url=(\S+)/.exec(line)?.[1];
      if (!line.startsWith("wk-testkit listening ") || !base || !wsUrl || !line.endsWith(`profile=${profile}`)) {
        reject(new Error(`unexpected first line: ${line}`));
        return;
      }
      resolve({
        base,
        wsBase: wsUrl.replace(/\/websocket$/, ""),
        stop: () => new Promise((done) => { child.once("exit", done); child.kill("SIGTERM"); }),
      });
    });
  });
}

/** A connected Phoenix socket (phoenix.js appends /websocket and vsn=2.0.0). */
export function connect(wsBase, opts = {}) {
  const socket = new Socket(wsBase, {
    transport: WebSocket,
    params: { client_id: "js-conformance" },
    heartbeatIntervalMs: 300,
    reconnectAfterMs: () => 60000,
    rejoinAfterMs: () => 200,
    ...opts,
  });
  socket.connect();
  return socket;
}

/** Pushes and resolves with {status, response} ("ok" | "error" | "timeout"). */
export function push(channel, event, payload, timeout = 2000) {
  return new Promise((resolve) => {
    channel
      .push(event, payload, timeout)
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => resolve({ status: "error", response }))
      .receive("timeout", () => resolve({ status: "timeout" }));
  });
}

/** Joins and resolves with {status, response}. */
export function join(channel, timeout = 2000) {
  return new Promise((resolve) => {
    channel
      .join(timeout)
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => resolve({ status: "error", response }))
      .receive("timeout", () => resolve({ status: "timeout" }));
  });
}

export function example(name) {
  return readFileSync(pathJoin(here, "..", "..", "..", "spec", "protocol", "examples", name), "utf8");
}

/** Ingests killmails as live kills through the control surface. */
export async function inject(base, body) {
  const r = await fetch(`${base}/_testkit/killmails`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (r.status !== 202) throw new Error(`inject failed: ${r.status}`);
  return r.json();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` holds, polling every 20 ms, or fails after `ms`. */
export async function until(pred, ms = 5000, what = "condition") {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}
