// bench/login: sign-in latency at the configured KDF cost, beside the bare scrypt cost (the floor) measured
// in the same run. Usage: npm run bench:login   (BENCH_LOGINS, BENCH_CONCURRENCY, AUTH_SCRYPT_LOG_N)
import { hashPassword, verifyPassword } from "../domain/identity/password-hash.js";
import { benchEnvironment, percentile, printTable, recordResults, runtimeCli } from "./environment.js";

const logins = Number(process.env.BENCH_LOGINS ?? 60);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1);
const logN = Number(process.env.AUTH_SCRYPT_LOG_N ?? 15);

async function timed(n: number, parallel: number, once: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < n) {
        const started = performance.now();
        await once();
        times.push(performance.now() - started);
      }
    }),
  );
  return times.sort((a, b) => a - b);
}

const bench = await benchEnvironment();
try {
  const base = await bench.serve([runtimeCli, "start"], "/api/health", { AUTH_SCRYPT_LOG_N: String(logN), AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: "100000" });
  const email = "bench-login@example.test";
  const password = "Bench-password-0123";
  const json = { "content-type": "application/json" };
  await fetch(`${base}/api/v1/auth/register`, { method: "POST", headers: json, body: JSON.stringify({ email, password, displayName: "Bench" }) });

  const kdf = { logN, r: 8, p: 1 };
  const stored = await hashPassword(password, kdf);
  const floor = await timed(logins, concurrency, async () => {
    await verifyPassword(password, stored, kdf);
  });
  const login = await timed(logins, concurrency, async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) });
    if (res.status !== 200) throw new Error(`login answered ${res.status}`);
    await res.arrayBuffer();
  });
  const row = (name: string, t: number[]) => [name, t.length.toString(), `${percentile(t, 50).toFixed(1)} ms`, `${percentile(t, 95).toFixed(1)} ms`, `${percentile(t, 99).toFixed(1)} ms`];
  console.log(`\nbench/login: scrypt N=2^${logN} r=8 p=1, ${concurrency} at a time, node ${process.version}\n`);
  printTable(["measure", "n", "p50", "p95", "p99"], [row("scrypt verify alone (floor)", floor), row("POST /api/v1/auth/login", login)]);
  // Latencies: the login's floor is the KDF alone, so a ratio near 1 means sign-in costs little beyond the hash.
  recordResults("login", [
    { measure: "scrypt verify alone (floor), p50", value: percentile(floor, 50), unit: "ms" },
    { measure: "POST /api/v1/auth/login, p50", value: percentile(login, 50), unit: "ms", floor: percentile(floor, 50) },
    { measure: "POST /api/v1/auth/login, p95", value: percentile(login, 95), unit: "ms", floor: percentile(floor, 95) },
  ]);
} finally {
  await bench.close();
}
