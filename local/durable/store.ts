// Where orchestration instances live between episodes: one JSON file per instance under a directory
// (written to a temp file and renamed, so a crash never leaves half a file), or only in memory.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { InstanceState } from './types.js';

export interface InstanceStore {
  readonly kind: 'memory' | 'directory';
  loadAll(): InstanceState[];
  save(state: InstanceState): void;
  remove(instanceId: string): void;
}

export class MemoryInstanceStore implements InstanceStore {
  readonly kind = 'memory';
  loadAll(): InstanceState[] {
    return [];
  }
  save(): void {}
  remove(): void {}
}

export class DirectoryInstanceStore implements InstanceStore {
  readonly kind = 'directory';
  readonly #dir: string;
  #created = false;

  constructor(dir: string) {
    // Created on the first save, so an app without orchestrations gets no directory.
    this.#dir = path.join(dir, 'instances');
  }

  get directory(): string {
    return this.#dir;
  }

  #file(instanceId: string): string {
    return path.join(this.#dir, `${encodeURIComponent(instanceId)}.json`);
  }

  loadAll(): InstanceState[] {
    const states: InstanceState[] = [];
    if (!existsSync(this.#dir)) return states;
    for (const name of readdirSync(this.#dir).sort()) {
      if (!name.endsWith('.json')) continue;
      try {
        states.push(JSON.parse(readFileSync(path.join(this.#dir, name), 'utf8')) as InstanceState);
      } catch {
        // A file that cannot be read is skipped (the temp-file rename keeps this from happening on crashes).
      }
    }
    return states;
  }

  save(state: InstanceState): void {
    const file = this.#file(state.instanceId);
    const temp = `${file}.${process.pid}.tmp`;
    if (!this.#created) {
      mkdirSync(this.#dir, { recursive: true });
      this.#created = true;
    }
    writeFileSync(temp, JSON.stringify(state));
    renameSync(temp, file);
  }

  remove(instanceId: string): void {
    const file = this.#file(instanceId);
    if (existsSync(file)) rmSync(file, { force: true });
  }
}
