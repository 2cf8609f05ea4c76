// Runs a command at the lowest CPU priority (its children inherit it): `npm test` runs lint and the typecheck beside
// the tests, and at this priority they take only the CPU the tests leave idle (the tests wait on processes, the
// database and the browser much of the time) instead of slowing them. os.setPriority works on Linux, macOS and
// Windows alike, where `nice` is not everywhere.
import { spawn } from "node:child_process";
import { constants, setPriority } from "node:os";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/low-priority.mjs <command> [args...]");
  process.exit(2);
}
try {
  setPriority(0, constants.priority.PRIORITY_LOW);
} catch {
  // Not allowed here: the command runs at the usual priority.
}
const child = spawn(command, args, { stdio: "inherit", shell: process.platform === "win32" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
