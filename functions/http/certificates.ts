import { z } from "zod";
import { certificateByCode, myCertificates } from "../../domain/certificates/issue-certificate.js";
import { authenticated, publicAccess } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { route } from "../platform/http/route.js";

const iso = z.iso.datetime();

route({
  name: "me-certificates-list",
  method: "GET",
  path: "/v1/me/certificates",
  access: authenticated,
  summary: "Your certificates, with short-lived download links",
  tags: ["me"],
  query: z.object(pageQuery),
  responses: {
    200: {
      description: "A page of certificates",
      body: pageOf(z.object({ id: z.uuid(), courseId: z.uuid(), courseTitle: z.string(), code: z.string(), issuedAt: iso, downloadUrl: z.string(), downloadUrlExpiresAt: iso })),
    },
  },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursor(query.cursor, 1)?.[0];
    const page = paginate(await myCertificates(ctx.db, ctx.caller.userId, { limit: query.limit, ...(typeof before === "string" ? { beforeId: before } : {}) }), query.limit, (c) => [c.id]);
    const items = await Promise.all(
      page.items.map(async (c) => {
        const link = await ctx.platform.files.downloadUrl(c.blobName, 15 * 60, `certificate-${c.code}.pdf`);
        return { id: c.id, courseId: c.courseId, courseTitle: c.courseTitle, code: c.code, issuedAt: c.issuedAt.toISOString(), downloadUrl: link.url, downloadUrlExpiresAt: link.expiresAt.toISOString() };
      }),
    );
    return { status: 200, body: { items, nextCursor: page.nextCursor }, headers: { ...nextLink(request.url, page.nextCursor), "cache-control": "private, no-store" } };
  },
});

route({
  name: "certificates-verify",
  method: "GET",
  path: "/v1/certificates/verify/{code}",
  access: publicAccess,
  // The verdict names the learner: no shared cache may keep it (nor serve it on after the learner is erased).
  personal: true,
  summary: "Whether a certificate code is valid, and for whom and what",
  tags: ["certificates"],
  params: z.object({ code: z.string().trim().regex(/^[2-9A-Za-z]{4}-[2-9A-Za-z]{4}-[2-9A-Za-z]{4}$/, "a code like ABCD-EFGH-JKMN") }),
  responses: {
    200: { description: "The verdict", body: z.object({ valid: z.boolean(), learnerName: z.string().optional(), courseTitle: z.string().optional(), issuedAt: iso.optional() }) },
  },
  handler: async ({ params }, ctx) => {
    const cert = await certificateByCode(ctx.db, params.code);
    return {
      status: 200,
      body: cert ? { valid: true, learnerName: cert.learnerName, courseTitle: cert.courseTitle, issuedAt: cert.issuedAt.toISOString() } : { valid: false },
    };
  },
});
