import { writeFile } from "node:fs/promises";
import { clientSchemaFile, generateClientSchema } from "./client-schema.js";

// `npm run client:generate`: writes the API's types for the typed client (web/src/api/client.ts).
await writeFile(clientSchemaFile, await generateClientSchema());
console.log(`wrote ${clientSchemaFile}`);
