import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding package.json, found from this module whether it runs from source or from dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "host.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("project root (package.json + host.json) not found");
    dir = parent;
  }
  return dir;
}
