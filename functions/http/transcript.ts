import { z } from "zod";
import { transcriptPdfOf } from "../../domain/records/transcript-pdf.js";
import { transcriptOf } from "../../domain/records/transcript.js";
import { authenticated } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";

const iso = z.iso.datetime();
const percent = z.number().nullable();

const transcriptSchema = z.object({
  learner: z.object({ id: z.uuid(), name: z.string() }),
  generatedAt: iso,
  courses: z.array(
    z.object({
      courseId: z.uuid(),
      title: z.string(),
      code: z.string().nullable(),
      status: z.enum(["active", "completed", "dropped", "removed"]).meta({ description: "`completed` once the course's completion rules were met" }),
      enrolledAt: iso,
      endedAt: iso.nullable(),
      finalGradePercent: percent.meta({ description: "The weighted course grade over released results (as `GET /v1/me/grades` computes it); null while nothing counts" }),
      completion: z.object({ percent: z.number(), completedAt: iso.nullable() }),
      attendance: z.object({
        ratePercent: percent.meta({ description: "(present + late) / (present + late + absent) over sessions held so far; null while nothing counts" }),
        present: z.number().int(),
        late: z.number().int(),
        absent: z.number().int(),
        excused: z.number().int(),
      }),
      certificates: z.array(z.object({ id: z.uuid(), code: z.string(), issuedAt: iso, verifyUrl: z.string().meta({ description: "The verification URL printed on the certificate" }) })),
    }),
  ),
});

route({
  name: "me-transcript",
  method: "GET",
  path: "/v1/me/transcript",
  access: authenticated,
  summary: "Your transcript: every course you were enrolled in, with grade, completion, attendance and certificates (JSON, or PDF with format=pdf)",
  description:
    "Courses you took as a learner (active, completed, dropped or removed; not ones you only waited for), oldest enrollment first. " +
    "With `format=pdf` the same transcript as an A4 PDF document.",
  tags: ["me"],
  query: z.object({ format: z.enum(["json", "pdf"]).default("json") }),
  responses: {
    200: {
      description: "Your transcript",
      body: transcriptSchema,
      otherContent: { "application/pdf": z.string().meta({ format: "binary", description: "With format=pdf: the transcript as a PDF" }) },
    },
    400: { description: "`VALIDATION_FAILED`: an unknown format" },
    401: { description: "No valid access token (`UNAUTHENTICATED`)" },
    404: { description: "`USER_NOT_FOUND`" },
  },
  handler: async ({ query }, ctx) => {
    const opts = { now: ctx.now(), verifyBaseUrl: `${ctx.platform.settings.PUBLIC_APP_URL.replace(/\/+$/, "")}/certificates/verify` };
    const headers = { "cache-control": "private, no-store" };
    if (query.format === "pdf") {
      const pdf = unwrap(await transcriptPdfOf(ctx.db, ctx.caller.userId, opts));
      return { raw: { status: 200, headers: { ...headers, "content-type": "application/pdf", "content-disposition": 'attachment; filename="transcript.pdf"' }, body: pdf } };
    }
    const t = unwrap(await transcriptOf(ctx.db, ctx.caller.userId, opts));
    const courses = t.courses.map((c) => ({
      ...c,
      enrolledAt: c.enrolledAt.toISOString(),
      endedAt: isoOrNull(c.endedAt),
      completion: { percent: c.completion.percent, completedAt: isoOrNull(c.completion.completedAt) },
      certificates: c.certificates.map((x) => ({ ...x, issuedAt: x.issuedAt.toISOString() })),
    }));
    return { status: 200, body: { learner: t.learner, generatedAt: t.generatedAt.toISOString(), courses }, headers };
  },
});
