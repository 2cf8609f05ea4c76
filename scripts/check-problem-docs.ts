import { problemCatalog, type ProblemCode } from "../functions/platform/http/problem-codes.js";
import { buildApiDocument } from "./client-schema.js";
import { handlerProblems } from "./handler-problems.js";

// `npm run check:problems` (part of `npm test` and `npm run checks`): the API document declares, under its status and
// naming it, every problem code a route's handler can answer with. A static check of the sources (the TypeScript
// checker, ~30 s of CPU), so it runs beside lint and the typecheck rather than in a test worker. The document is
// built in process from the route declarations (buildApiDocument, as GET /api/openapi.json builds it).

interface Operation {
  operationId: string;
  responses: Record<string, { description: string }>;
}

const document = (await buildApiDocument()) as { paths: Record<string, Record<string, Operation>> };
const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));

const missing: string[] = [];
const routes = handlerProblems();
for (const route of routes) {
  for (const operation of operations.filter((o) => route.name.test(o.operationId))) {
    for (const code of route.codes) {
      const status = problemCatalog[code as ProblemCode]?.status;
      if (status === undefined) {
        missing.push(`${operation.operationId} (${route.where}): ${code} is not in the problem catalog`);
        continue;
      }
      if (!operation.responses[String(status)]?.description.includes(`\`${code}\``)) missing.push(`${operation.operationId} (${route.where}): ${status} \`${code}\``);
    }
  }
}
if (missing.length > 0) {
  console.error(`The API document does not declare these problems a handler can answer with (add them to the route's responses):\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`problem codes: all declared, for the ${routes.length} routes of functions/http`);
