import { z } from "zod";
import type { GroupView } from "../../../domain/sections/groups.js";
import type { SectionView } from "../../../domain/sections/section-view.js";
import { versionFromIfMatch } from "../../platform/http/etag.js";
import { line } from "./text.js";

const iso = z.iso.datetime();

export const sectionSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    name: z.string(),
    capacity: z.number().int().nullable().meta({ description: "null: unlimited" }),
    learners: z.number().int().meta({ description: "Active learners in the section" }),
    scheduleUrl: z.string().nullable(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Section" });

export const sectionBody = (s: SectionView): z.infer<typeof sectionSchema> => ({ ...s, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() });

export const groupSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    name: z.string(),
    members: z.array(z.object({ userId: z.uuid(), displayName: z.string() })),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Group" });

export const groupBody = (g: GroupView): z.infer<typeof groupSchema> => ({ ...g, createdAt: g.createdAt.toISOString(), updatedAt: g.updatedAt.toISOString() });

const name = line(100);

export const sectionSettingsShape = {
  name,
  capacity: z.number().int().min(1).max(100_000).nullable(),
  scheduleUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable(),
};
export const groupName = name;

/** Group ETags carry the version (bumped by membership changes too), which is what If-Match compares. */
export const versionEtag = (v: { version: number }) => `"v${v.version}"`;
/** Section ETags carry the version (what If-Match compares) and the learner count (so 304 never hides a placement). */
export const sectionEtag = (s: SectionView) => `"v${s.version}.l${s.learners}"`;

/** The version an If-Match names (a versionEtag or sectionEtag); undefined without one, or `*`. */
export const expectedVersion = (header: string | null) => versionFromIfMatch(header, /^"v(\d+)(?:\.l\d+)?"$/);
