import { z } from "zod";
import { adminOnly } from "../platform/http/access.js";
import { route } from "../platform/http/route.js";
import { rotateWebhookSecrets } from "../platform/webhook-secret-rotation.js";

route({
  name: "ops-webhook-secrets-rotate",
  method: "POST",
  path: "/v1/ops/webhook-secrets/rotate",
  access: adminOnly,
  summary: "Seal every webhook signing secret under the current key of WEBHOOK_SECRET_KEYS",
  description:
    "Run after putting a new key first in WEBHOOK_SECRET_KEYS: secrets under older keys (and any still in plain text) are sealed again, in batches. Idempotent. Once `unopenable` is empty, the older keys can be removed.",
  tags: ["operations"],
  responses: {
    200: {
      description: "What the rotation did",
      body: z
        .object({
          keyId: z.string().meta({ description: "The key every secret is now sealed under" }),
          scanned: z.number().int(),
          resealed: z.number().int(),
          unopenable: z.array(z.uuid()).meta({ description: "Webhooks whose secret no key of the ring opens (left as they are)" }),
        })
        .meta({ id: "WebhookSecretRotation" }),
    },
  },
  handler: async (_input, ctx) => {
    const report = await rotateWebhookSecrets(ctx.platform, ctx.domain().actor, ctx.log);
    return { status: 200, body: report, headers: { "cache-control": "no-store" } };
  },
});
