import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import * as schema from "../../../domain/db/schema/index.js";
import { personalDataInventory } from "../../../domain/privacy/erasure.js";
import { pseudonymFor } from "../../../domain/privacy/pseudonym.js";
import { scrubJson, scrubText } from "../../../domain/privacy/scrub.js";

const tables = Object.values(schema)
  .filter((v) => is(v, PgTable))
  .map((t) => getTableConfig(t as PgTable));

describe("the erasure inventory", () => {
  it("says for every table of the schema what erasure does with it, and names no table the schema lacks", () => {
    const names = tables.map((t) => t.name).sort();
    expect(Object.keys(personalDataInventory).sort()).toEqual(names);
  });

  it("marks every table with a user id or an email-like column as one erasure touches or keeps on purpose", () => {
    const personal = tables.filter((t) => t.columns.some((c) => /(^|_)(user_id|email|recipient|display_name|learner_name)$/.test(c.name)));
    expect(personal.length).toBeGreaterThan(10);
    for (const t of personal) expect(personalDataInventory[t.name as keyof typeof personalDataInventory], t.name).not.toMatch(/^no personal data/);
  });
});

describe("pseudonyms and scrubbing", () => {
  it("derives the same pseudonym from the same id, in the reserved .invalid domain", () => {
    const id = "01930000-0000-7000-8000-000000000001";
    expect(pseudonymFor(id)).toEqual(pseudonymFor(id));
    expect(pseudonymFor(id).email).toMatch(/^erased-[0-9a-f]{12}@users\.invalid$/);
    expect(pseudonymFor(id).shortId).not.toBe(pseudonymFor("01930000-0000-7000-8000-000000000002").shortId);
  });

  it("replaces whole words only, in any case, and leaves JSON structure and property names alone", () => {
    const r = [
      { find: "Al", replaceWith: "Erased user 1" },
      { find: "al@example.test", replaceWith: "erased-1@users.invalid" },
    ];
    expect(scrubText("Always ask AL (al@Example.test)", r)).toBe("Always ask Erased user 1 (erased-1@users.invalid)");
    expect(scrubJson({ Al: ["al", 3, { name: "al" }], n: null }, r)).toEqual({ Al: ["Erased user 1", 3, { name: "Erased user 1" }], n: null });
  });
});
