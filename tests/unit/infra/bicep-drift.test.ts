import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";
import {
  type BicepFile,
  bracketProblem,
  filesUnder,
  lineCol,
  loadedFiles,
  modules,
  objectKeys,
  outputs,
  paramAssignments,
  params,
  resourceTypes,
  scanBicep,
} from "./bicep-source.js";

// The Bicep in bicep/ against the app: settings, Service Bus entities, Cosmos DB containers and timer
// schedules must not drift apart, and the templates must hang together (module paths, parameters,
// outputs) even though no Bicep compiler runs in CI's unit tests.

const bicepDir = join(repoRoot, "bicep");
const read = (path: string) => readFileSync(path, "utf8");
const bicepFiles = filesUnder(bicepDir, ".bicep").map((p) => scanBicep(p, repoRoot));
const paramFiles = filesUnder(bicepDir, ".bicepparam").map((p) => scanBicep(p, repoRoot));
const file = (relativePath: string): BicepFile => {
  const found = bicepFiles.find((f) => f.path === join(bicepDir, relativePath));
  if (!found) throw new Error(`bicep/${relativePath} is missing`);
  return found;
};
const mainBicep = file("main.bicep");
const functionApp = file("modules/function-app.bicep");

/** Keys of `var appSettings = { ... }` in the function-app module: what the app gets in Azure. */
function appSettingsOf(module: BicepFile) {
  const decl = /^var appSettings = \{/m.exec(module.code);
  if (!decl) throw new Error(`${module.name}: no "var appSettings = {" object literal (the drift test reads the app settings from it)`);
  return objectKeys(module, decl.index + decl[0].length - 1);
}
const appSettings = appSettingsOf(functionApp);
const settingNames = new Set(appSettings.map((s) => s.key));
const valueOf = (name: string) => appSettings.find((s) => s.key === name)?.value;
const schemaNames = new Set(Object.keys(settingsSchema.shape));

/** Fails listing every problem, one per line, at the top of the failure message. */
function expectNone(problems: string[], title: string) {
  expect(problems, `${title}:\n  ${problems.join("\n  ")}\n`).toEqual([]);
}

// Settings the module may set although the app's schema does not read them, because the Functions host
// (or its extensions) does. Each needs a reason.
const hostSettings: Record<string, string> = {
  AzureWebJobsStorage__accountName: "identity-based host storage: the host, timers and Durable Functions' Azure Storage provider",
  AzureWebJobsStorage__credential: "identity-based host storage: tells the host to use a managed identity",
  AzureWebJobsStorage__clientId: "identity-based host storage: which user-assigned identity",
  FUNCTIONS_EXTENSION_VERSION: "Functions runtime version (Elastic Premium; Flex takes it from functionAppConfig)",
  FUNCTIONS_WORKER_RUNTIME: "language worker (Elastic Premium; Flex takes it from functionAppConfig)",
  languageWorkers__node__arguments: "the node flags the host starts the worker with (the import worker's heap cap)",
  WEBSITE_RUN_FROM_PACKAGE: "Elastic Premium runs the deployed zip package in place",
  DURABLE_TASK_HUB: "host.json names the Durable Functions task hub as %DURABLE_TASK_HUB%",
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: "host.json's durableTask storageProvider (azureManaged: the Durable Task Scheduler) reads its connection here",
  APPLICATIONINSIGHTS_CONNECTION_STRING: "the host's own telemetry (also read by the app's schema once it is there)",
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Entra-authenticated ingestion for the host's telemetry",
  BlobStorage__credential: "Functions identity-connection convention for a `BlobStorage` connection (bindings); the app reads __serviceUri/__clientId",
  ServiceBusConnection__credential: "read by the Service Bus trigger extension for `connection: \"ServiceBusConnection\"`",
};

describe("function-app settings against functions/platform/settings.ts", () => {
  it("sets every setting the schema requires (no default, not optional)", () => {
    const required = Object.entries(settingsSchema.shape)
      .filter(([, field]) => !(field as { safeParse(v: unknown): { success: boolean } }).safeParse(undefined).success)
      .map(([name]) => name);
    expect(required.length, "the schema has required settings (DATABASE_URL at least)").toBeGreaterThan(0);
    expectNone(required.filter((n) => !settingNames.has(n)), `required by the schema but not set in ${functionApp.name}`);
  });

  it("sets the identity form of every setting the schema's refinements require", () => {
    // Refinements accept a connection string (local) or the managed-identity form (Azure); Azure uses the latter.
    const identityForm: Record<string, string> = {
      BlobStorage__serviceUri: "Blob: BlobStorage or BlobStorage__serviceUri",
      BlobStorage__clientId: "Blob: the user-assigned identity",
      ServiceBusConnection__fullyQualifiedNamespace: "Service Bus: ServiceBusConnection or its namespace",
      ServiceBusConnection__clientId: "Service Bus: the user-assigned identity",
      CosmosConnection__accountEndpoint: "Cosmos DB: CosmosConnection or the account endpoint",
      CosmosConnection__clientId: "Cosmos DB: the user-assigned identity",
      EMAIL_TRANSPORT: "email: the transport decides which of the next settings the schema requires",
      EmailAcs__endpoint: "email: required for EMAIL_TRANSPORT=acs",
      EmailAcs__clientId: "email: ACS with the user-assigned identity",
      EmailSmtp: "email: required for EMAIL_TRANSPORT=smtp (the module offers both)",
      AUTH_JWT_ALGORITHM: "tokens: the algorithm decides which key setting is required",
      AUTH_JWT_PRIVATE_JWKS: "tokens: required for ES256/RS256",
    };
    const missing = Object.entries(identityForm)
      .filter(([name]) => !settingNames.has(name))
      .map(([name, why]) => `${name} (${why})`);
    expectNone(missing, `not set in ${functionApp.name}`);
    // ES256 needs the key set, not the HS256 secret (which the module must then not rely on).
    expect(valueOf("AUTH_JWT_ALGORITHM")).toBe("'ES256'");
    expect(valueOf("AUTH_JWT_PRIVATE_JWKS"), "AUTH_JWT_PRIVATE_JWKS is a Key Vault reference").toMatch(/^'@Microsoft\.KeyVault\(SecretUri=/);
  });

  it("leaves the web app to the Static Web Apps site: the function app serves no second copy", () => {
    expect(valueOf("WEB_APP_ENABLED")).toBe("'false'");
    expect(settingsSchema.shape.WEB_APP_ENABLED.parse("false")).toBe(false);
    // Locally (no setting, or the sample's) the runtime serves the app on its own origin.
    expect(settingsSchema.shape.WEB_APP_ENABLED.parse(undefined)).toBe(true);
  });

  it("sets only settings the schema knows, or host settings on the allowlist", () => {
    const unknown = [...settingNames].filter((n) => !schemaNames.has(n) && !(n in hostSettings));
    expectNone(unknown, `set in ${functionApp.name} but neither in settings.ts nor on the host allowlist of this test`);
    const stale = Object.keys(hostSettings).filter((n) => !settingNames.has(n));
    expectNone(stale, "allowlisted host settings the module no longer sets (remove them from the allowlist)");
  });

  it("gives literal values the schema accepts", () => {
    const problems: string[] = [];
    for (const { key, value } of appSettings) {
      const literal = /^'([^'$]*)'$/.exec(value)?.[1];
      const field = (settingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }>)[key];
      if (literal === undefined || !field) continue;
      const parsed = field.safeParse(literal);
      if (!parsed.success) problems.push(`${key} = '${literal}': ${parsed.error?.issues.map((i) => i.message).join("; ")}`);
    }
    expectNone(problems, "literal values the settings schema rejects");
  });

  it("keeps the database and identity contract the deploy workflow relies on", () => {
    expect(valueOf("DATABASE_URL"), "DATABASE_URL goes through PgBouncer (6432) as the identity").toMatch(/^'postgres:\/\/\$\{uriComponent\(identityName\)\}@\$\{postgresHost\}:6432\/\$\{postgresDatabaseName\}'$/);
    expect({
      DATABASE_AUTH: valueOf("DATABASE_AUTH"),
      DATABASE_ENTRA_CLIENT_ID: valueOf("DATABASE_ENTRA_CLIENT_ID"),
      DATABASE_SSL: valueOf("DATABASE_SSL"),
      DATABASE_PGBOUNCER: valueOf("DATABASE_PGBOUNCER"),
      BlobStorage__credential: valueOf("BlobStorage__credential"),
      ServiceBusConnection__credential: valueOf("ServiceBusConnection__credential"),
      AzureWebJobsStorage__credential: valueOf("AzureWebJobsStorage__credential"),
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: valueOf("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
    }).toEqual({
      DATABASE_AUTH: "'entra'",
      DATABASE_ENTRA_CLIENT_ID: "identityClientId",
      DATABASE_SSL: "'require'",
      DATABASE_PGBOUNCER: "'true'",
      BlobStorage__credential: "'managedidentity'",
      ServiceBusConnection__credential: "'managedidentity'",
      AzureWebJobsStorage__credential: "'managedidentity'",
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "'Authorization=AAD;ClientId=${identityClientId}'",
    });
    // No connection strings or keys where an identity works.
    for (const name of ["AzureWebJobsStorage", "BlobStorage", "ServiceBusConnection", "CosmosConnection", "EmailAcs", "AUTH_JWT_SECRET"]) {
      expect(settingNames.has(name), `${name} (a connection string or shared secret) is not set in Azure`).toBe(false);
    }
  });

  it("names in every BLOB_CONTAINER_* setting a container the files account creates, the schema's default", () => {
    const containerSettings = appSettings.filter((s) => s.key.startsWith("BLOB_CONTAINER_"));
    const schemaContainers = [...schemaNames].filter((n) => n.startsWith("BLOB_CONTAINER_"));
    expect(containerSettings.map((s) => s.key).sort(), "every container setting of the schema is set").toEqual(schemaContainers.sort());
    const decl = /^var filesContainers = \{/m.exec(mainBicep.code);
    expect(decl, 'main.bicep declares "var filesContainers = { key: \'container\' }"').not.toBeNull();
    const names = Object.fromEntries(objectKeys(mainBicep, (decl?.index ?? 0) + (decl?.[0].length ?? 1) - 1).map((k) => [k.key, k.value.replace(/^'|'$/g, "")]));
    const filesModule = /module filesStorage '[^']+' = \{[\s\S]*?\n\}/.exec(mainBicep.text)?.[0] ?? "";
    const problems: string[] = [];
    for (const { key, value } of containerSettings) {
      const ref = /^filesContainers\.(\w+)$/.exec(value)?.[1];
      if (!ref || !(ref in names)) {
        problems.push(`${key} = ${value} is not one of main.bicep's filesContainers`);
        continue;
      }
      if (!filesModule.includes(`filesContainers.${ref}`)) problems.push(`${key}: the files storage account does not create filesContainers.${ref}`);
      const field = (settingsSchema.shape as Record<string, { parse(v: unknown): unknown }>)[key];
      if (field && field.parse(undefined) !== names[ref]) problems.push(`${key}: '${names[ref]}' in Bicep, default '${String(field.parse(undefined))}' in settings.ts`);
    }
    expectNone(problems, "container settings that do not match the files account");
  });

  it("sets every %NAME% the trigger registrations and host.json resolve", () => {
    const sources = [...filesUnder(join(repoRoot, "functions"), ".ts"), join(repoRoot, "host.json")];
    const referenced = new Map<string, string>();
    for (const path of sources) {
      for (const m of read(path).matchAll(/"%([A-Za-z0-9_]+)%"/g)) referenced.set(m[1] as string, path.slice(repoRoot.length + 1));
    }
    const timers = filesUnder(join(repoRoot, "functions", "timers"), ".ts");
    expect(timers.length, "functions/timers has timer registrations").toBeGreaterThan(0);
    for (const path of timers) {
      expect(read(path), `${path} names its schedule as a %SETTING%`).toMatch(/schedule:\s*"%[A-Z0-9_]+%"/);
    }
    const missing = [...referenced].filter(([name]) => !settingNames.has(name)).map(([name, where]) => `%${name}% (${where})`);
    expectNone(missing, `resolved by the host from app settings but not set in ${functionApp.name}`);
  });
});

describe("Service Bus entities", () => {
  interface Entities {
    topics: { name: string; subscriptions: { name: string; rules: Record<string, unknown>[] }[] }[];
    queues?: { name: string }[];
  }
  const entitiesPath = join(bicepDir, "servicebus-entities.json");
  const entities = JSON.parse(read(entitiesPath)) as Entities & Record<string, unknown>;
  const serviceBus = file("modules/service-bus.bicep");
  const topicModule = file("modules/service-bus-topic.bicep");
  const subscriptionModule = file("modules/service-bus-subscription.bicep");
  const entityModules = [serviceBus, topicModule, subscriptionModule];

  const keysOf = (objects: object[], skip: string[]) => [...new Set(objects.flatMap((o) => Object.keys(o)))].filter((k) => !skip.includes(k));
  /** The module reads `key` from the entity object (x.key, x.?key or x[?'key']). */
  const reads = (module: BicepFile, key: string) => new RegExp(`\\.\\??${key}\\b|\\[\\??'${key}'\\]`).test(module.text);

  it("are loaded from bicep/servicebus-entities.json, the local broker's file", () => {
    expect(loadedFiles(serviceBus)).toContainEqual({ fn: "loadJsonContent", path: "../servicebus-entities.json" });
    expect(resolve(dirname(serviceBus.path), "../servicebus-entities.json")).toBe(entitiesPath);
    const sample = JSON.parse(read(join(repoRoot, "local.settings.sample.json"))) as { Values: Record<string, string> };
    expect(sample.Values.LOCAL_SERVICEBUS_ENTITIES, "the local broker reads the same file").toBe("bicep/servicebus-entities.json");
  });

  it("map every field of the entity file", () => {
    const subscriptions = entities.topics.flatMap((t) => t.subscriptions);
    const rules = subscriptions.flatMap((s) => s.rules);
    const unmapped = [
      ...keysOf(entities.topics, ["name", "subscriptions"]).filter((k) => !reads(topicModule, k)).map((k) => `topic.${k} (${topicModule.name})`),
      ...keysOf(subscriptions, ["name", "rules"]).filter((k) => !reads(subscriptionModule, k)).map((k) => `subscription.${k} (${subscriptionModule.name})`),
      ...keysOf(rules, ["name"]).filter((k) => !reads(subscriptionModule, k)).map((k) => `rule.${k} (${subscriptionModule.name})`),
      ...keysOf(rules.flatMap((r) => (r.correlation ? [r.correlation as object] : [])), []).filter((k) => !reads(subscriptionModule, k)).map((k) => `rule.correlation.${k} (${subscriptionModule.name})`),
      ...keysOf(entities.queues ?? [], ["name"]).filter((k) => !reads(serviceBus, k)).map((k) => `queue.${k} (${serviceBus.name})`),
      ...keysOf([entities], ["$comment", "topics", "queues"]).map((k) => `${k} (top level: no module reads it)`),
    ];
    expectNone(unmapped, "fields of servicebus-entities.json the Bicep modules do not map");

    // Each file field lands on the ARM property of the same name, and each filter kind has its ARM form.
    const armProperties: [BicepFile, string[]][] = [
      [topicModule, keysOf(entities.topics, ["name", "subscriptions"])],
      [subscriptionModule, keysOf(subscriptions, ["name", "rules"])],
    ];
    for (const [module, keys] of armProperties) {
      for (const key of keys) expect(module.text, `${module.name} sets the ARM property ${key}`).toMatch(new RegExp(`^\\s*${key}:`, "m"));
    }
    if (rules.some((r) => r.correlation)) {
      expect(subscriptionModule.text, "correlation rules become CorrelationFilter on the subject (ARM: label)").toMatch(/filterType: 'CorrelationFilter'[\s\S]*label: rule\.correlation\.subject/);
    }
    if (rules.some((r) => r.true === true)) expect(subscriptionModule.text, "true rules become the SQL filter 1=1").toContain("'1=1'");
    for (const key of ["topics", "subscriptions", "rules"]) expect(entities.topics.length > 0 && key.length > 0).toBe(true);
    expect(serviceBus.text).toMatch(/for topic in entities\.topics/);
    expect(serviceBus.text).toMatch(/for queue in any\(entities\.queues\)/);
    expect(topicModule.text).toMatch(/for subscription in topic\.subscriptions/);
    expect(subscriptionModule.text).toMatch(/for rule in declaredRules/);
  });

  it("are declared nowhere else, and no entity name is written out in Bicep", () => {
    const entityTypes = /^Microsoft\.ServiceBus\/namespaces\/(topics|queues)/i;
    const elsewhere = bicepFiles
      .filter((f) => !entityModules.includes(f))
      .flatMap((f) => resourceTypes(f).filter((r) => entityTypes.test(r.type)).map((r) => `${f.name}:${lineCol(f.text, r.offset)} ${r.type}`));
    expectNone(elsewhere, "Service Bus entities come only from servicebus-entities.json through modules/service-bus*.bicep");

    const names = new Set([
      ...entities.topics.flatMap((t) => [t.name, ...t.subscriptions.flatMap((s) => [s.name, ...s.rules.map((r) => String(r.name))])]),
      ...(entities.queues ?? []).map((q) => q.name),
    ]);
    names.delete("$Default"); // the platform's own rule name, which the subscription module recognises
    const topicNames = new Set(entities.topics.map((t) => t.name));
    const literals = bicepFiles.flatMap((f) =>
      f.strings
        .filter((s) => (entityModules.includes(f) ? names.has(s.raw) : topicNames.has(s.raw)))
        .map((s) => `${f.name}:${lineCol(f.text, s.start)} '${s.raw}'`),
    );
    expectNone(literals, "entity names hard-coded in Bicep instead of read from the entity file");
  });
});

describe("Cosmos DB containers", () => {
  const cosmos = file("modules/cosmos.bicep");
  const decl = /^var containers = \[/m.exec(cosmos.code);
  const bicepContainers = decl
    ? [...cosmos.text.slice(decl.index).matchAll(/name:\s*'([^']+)'\s*\n\s*partitionKeyPath:\s*'([^']+)'\s*\n\s*defaultTtl:\s*(-?\d+|null)/g)].map((m) => ({
        name: m[1] as string,
        partitionKey: m[2] as string,
        defaultTtl: m[3] === "null" ? null : Number(m[3]),
      }))
    : [];

  // What the app creates when it runs against the local Cosmos endpoint: object literals that name a
  // container and its partition key ({ id: "activity", partitionKey: "/learnerId" } or { paths: [...] }),
  // with `ttl: true` where the container needs time to live on.
  const appContainers = filesUnder(join(repoRoot, "functions"), ".ts").flatMap((path) =>
    [...read(path).matchAll(/\{\s*id:\s*"([^"]+)",\s*partitionKey:\s*(?:\{\s*paths:\s*\[\s*"([^"]+)"\s*\]\s*\}|"([^"]+)")(?:,\s*ttl:\s*(true|false))?/g)].map((m) => ({
      name: m[1] as string,
      partitionKey: (m[2] ?? m[3]) as string,
      ttl: m[4] === "true",
      where: path.slice(repoRoot.length + 1),
    })),
  );

  it("are declared in one `var containers` list with partition keys", () => {
    expect(decl, `${cosmos.name} declares "var containers = [ { name, partitionKeyPath, defaultTtl } ]"`).not.toBeNull();
    expect(bicepContainers.length).toBeGreaterThan(0);
    expect(cosmos.text, "containers are created from the list").toMatch(/for container in containers/);
  });

  it("match the containers the app creates locally", () => {
    expect(appContainers.map((c) => c.name), "the app names its containers with their partition keys (functions/platform)").toEqual(expect.arrayContaining(["activity", "analytics"]));
    const drift = appContainers.flatMap((a) => {
      const b = bicepContainers.find((c) => c.name === a.name);
      if (!b) return [`${a.name} (${a.where}) is not declared in ${cosmos.name}`];
      return [
        ...(b.partitionKey !== a.partitionKey ? [`${a.name}: partition key ${a.partitionKey} in ${a.where}, ${b.partitionKey} in Bicep`] : []),
        ...(a.ttl !== (b.defaultTtl !== null) ? [`${a.name}: time to live ${a.ttl ? "on" : "off"} in ${a.where}, defaultTtl ${b.defaultTtl} in Bicep`] : []),
      ];
    });
    expectNone(drift, "Cosmos DB containers that differ between the app and Bicep");
    const extra = bicepContainers.filter((b) => !appContainers.some((a) => a.name === b.name)).map((b) => b.name);
    expectNone(extra, "containers in Bicep the app never uses");
  });

  it("are activity by learner and analytics by course with TTL on", () => {
    expect(bicepContainers.find((c) => c.name === "activity")).toMatchObject({ partitionKey: "/learnerId" });
    // Per-day activity markers carry their own ttl; defaultTtl -1 turns TTL on without a default expiry.
    expect(bicepContainers.find((c) => c.name === "analytics")).toEqual({ name: "analytics", partitionKey: "/courseId", defaultTtl: -1 });
    expect(cosmos.text, "the database is COSMOS_DATABASE, default ringlet").toMatch(/param databaseName string = 'ringlet'/);
  });
});

describe("Bicep structure", () => {
  const mainParams = params(mainBicep);

  it("has balanced brackets and terminated strings and comments", () => {
    const problems = [...bicepFiles, ...paramFiles].flatMap((f) => [...f.lexErrors.map((e) => `${f.name}:${e}`), bracketProblem(f)].filter((p): p is string => Boolean(p)));
    expectNone(problems, "unreadable Bicep");
  });

  it("targets the subscription, creates rg-ringlet-<env> and has the contract's parameters and outputs", () => {
    expect(mainBicep.text).toMatch(/^targetScope = 'subscription'$/m);
    expect(mainBicep.text).toMatch(/resource rg 'Microsoft\.Resources\/resourceGroups@[\d-]+' = \{\s*name: 'rg-ringlet-\$\{environmentName\}'/);
    expect(mainParams.find((p) => p.name === "environmentName")?.allowed).toEqual(["'dev'", "'staging'", "'prod'"]);
    expect(mainParams.map((p) => p.name)).toEqual(expect.arrayContaining(["environmentName", "location"]));
    const contract = [
      "AZURE_RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "AZURE_FUNCTION_APP_URL",
      "AZURE_CLIENT_ID",
      "AZURE_POSTGRES_HOST",
      "AZURE_POSTGRES_DATABASE",
      "AZURE_POSTGRES_USER",
      "AZURE_KEY_VAULT_NAME",
      "ServiceBusConnection__fullyQualifiedNamespace",
      "CosmosConnection__accountEndpoint",
      "BlobStorage__serviceUri",
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
    ];
    expectNone(contract.filter((o) => !outputs(mainBicep).includes(o)), "outputs missing from main.bicep");
    // Outputs named like settings carry what the app gets in that setting.
    for (const name of contract.filter((o) => settingNames.has(o))) expect(schemaNames.has(name) || name in hostSettings, name).toBe(true);
  });

  it("references modules and loaded files that exist, passing only parameters they declare and every one they require", () => {
    const problems: string[] = [];
    for (const f of bicepFiles) {
      for (const loaded of loadedFiles(f)) {
        if (!existsSync(resolve(dirname(f.path), loaded.path))) problems.push(`${f.name}: ${loaded.fn}('${loaded.path}') does not exist`);
      }
      for (const m of modules(f)) {
        const target = resolve(dirname(f.path), m.path);
        const module = bicepFiles.find((b) => b.path === target);
        if (!module) {
          problems.push(`${f.name}:${lineCol(f.text, m.offset)} module ${m.symbol} '${m.path}' does not exist`);
          continue;
        }
        const declared = params(module);
        for (const p of m.params) if (!declared.some((d) => d.name === p)) problems.push(`${f.name}: module ${m.symbol} passes ${p}, which ${module.name} does not declare`);
        for (const d of declared) if (!d.hasDefault && !m.params.includes(d.name)) problems.push(`${f.name}: module ${m.symbol} does not pass ${d.name}, required by ${module.name}`);
        const declaredOutputs = outputs(module);
        for (const use of f.code.matchAll(new RegExp(`\\b${m.symbol}!?(?:\\[[^\\]]*\\])?\\.outputs\\.(\\w+)`, "g"))) {
          if (!declaredOutputs.includes(use[1] as string)) problems.push(`${f.name}:${lineCol(f.text, use.index as number)} ${m.symbol}.outputs.${use[1]} is not an output of ${module.name}`);
        }
      }
    }
    expectNone(problems, "broken module references");
  });

  it("has a parameter file per environment that uses main.bicep and sets only its parameters, each required one, within @allowed", () => {
    expect(paramFiles.map((f) => f.name).sort()).toEqual(["bicep/env/dev.bicepparam", "bicep/env/prod.bicepparam", "bicep/env/staging.bicepparam"]);
    const problems: string[] = [];
    for (const f of paramFiles) {
      const using = /^using\s+'([^']+)'/m.exec(f.text)?.[1];
      if (!using || resolve(dirname(f.path), using) !== mainBicep.path) problems.push(`${f.name}: using '${using}' is not bicep/main.bicep`);
      const assigned = paramAssignments(f);
      const env = /\/(\w+)\.bicepparam$/.exec(f.path)?.[1];
      for (const a of assigned) {
        const decl = mainParams.find((p) => p.name === a.name);
        if (!decl) problems.push(`${f.name}: param ${a.name} is not declared in main.bicep`);
        else if (decl.allowed && /^('[^']*'|-?\d+|true|false)$/.test(a.value) && !decl.allowed.includes(a.value)) problems.push(`${f.name}: ${a.name} = ${a.value} is not one of @allowed ${decl.allowed.join(", ")}`);
      }
      for (const p of mainParams) if (!p.hasDefault && !assigned.some((a) => a.name === p.name)) problems.push(`${f.name}: required param ${p.name} is not set`);
      if (assigned.find((a) => a.name === "environmentName")?.value !== `'${env}'`) problems.push(`${f.name}: environmentName is not '${env}'`);
    }
    expectNone(problems, "parameter file problems");
  });

  it("gives azd (main.parameters.json, azure.yaml) what it needs", () => {
    const azdParams = JSON.parse(read(join(bicepDir, "main.parameters.json"))) as { parameters: Record<string, unknown> };
    const names = Object.keys(azdParams.parameters);
    expectNone(names.filter((n) => !mainParams.some((p) => p.name === n)), "main.parameters.json sets params main.bicep lacks");
    expectNone(mainParams.filter((p) => !p.hasDefault && !names.includes(p.name)).map((p) => p.name), "required params missing from main.parameters.json");
    const azureYaml = read(join(repoRoot, "azure.yaml"));
    expect(azureYaml).toMatch(/infra:\s*\n\s+provider: bicep\s*\n\s+path: bicep\s*\n\s+module: main/);
    expect(azureYaml).toMatch(/services:\s*\n\s+api:[\s\S]*host: function/);
    // azd finds each service's app by its tag: the API app keeps the module's default, the workers have their own.
    expect(functionApp.text, "azd finds the app by its service tag").toContain("'azd-service-name': azdServiceName");
    expect(params(functionApp).find((p) => p.name === "azdServiceName")).toMatchObject({ hasDefault: true });
    expect(functionApp.text).toMatch(/^param azdServiceName string = 'api'$/m);
    for (const service of ["imports", "enrichment", "generation"]) expect(azureYaml).toMatch(new RegExp(`\\n {2}${service}:\\n {4}project: \\.\\n {4}language: ts\\n {4}host: function\\n`));
  });
});

describe("optional features", () => {
  it("leave Web Push off by default, so a deployment without the VAPID secrets in Key Vault still starts", () => {
    for (const f of [mainBicep, functionApp]) expect(f.text, f.name).toMatch(/^param webPushFromKeyVault bool = false$/m);
  });
});
