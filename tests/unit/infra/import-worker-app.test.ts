import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";
import { type BicepFile, type ObjectKey, closingBracket, objectKeys, outputs, params, scanBicep } from "./bicep-source.js";

// The workers in Azure (the bulk-import, enrichment and AI generator workers): function apps from the same module and
// package as the API app, each with its APP_ROLE, its own plan, deployment container, task hub and subnet, and
// otherwise the very same settings (so the settings drift test, which reads the module, holds for every app) but for
// the model's, which only the generation worker (and the API app, to answer 503 without one) gets.

const bicep = (relativePath: string) => scanBicep(join(repoRoot, "bicep", relativePath), repoRoot);
const main = bicep("main.bicep");
const functionAppModule = bicep("modules/function-app.bicep");
const dts = bicep("modules/durable-task-scheduler.bicep");
const network = bicep("modules/network.bicep");
const alerts = bicep("modules/alerts.bicep");

/** The `params: { ... }` of `module <symbol> '<path>'` in main.bicep, with each value's first line. */
function moduleParams(file: BicepFile, symbol: string): Map<string, string> {
  const decl = new RegExp(`^module ${symbol} '([^']+)'`, "m").exec(file.code);
  if (!decl) throw new Error(`${file.name} has no module ${symbol}`);
  const body = file.code.indexOf("{", decl.index);
  const paramsKey = objectKeys(file, body).find((k) => k.key === "params");
  if (!paramsKey) throw new Error(`module ${symbol} passes no params`);
  const open = file.code.indexOf("{", paramsKey.offset);
  expect(open).toBeLessThan(closingBracket(file, body));
  return new Map(objectKeys(file, open).map((k: ObjectKey) => [k.key, k.value]));
}

const api = moduleParams(main, "functionApp");
const namesDecl = /^var names = \{/m.exec(main.code);
const names = new Map(namesDecl ? objectKeys(main, namesDecl.index + namesDecl[0].length - 1).map((k) => [k.key, k.value]) : []);

const workers = [
  { w: "importWorker", role: "import-worker", azd: "imports", output: "AZURE_IMPORT_WORKER_APP_NAME", model: false },
  { w: "enrichmentWorker", role: "enrichment-worker", azd: "enrichment", output: "AZURE_ENRICHMENT_WORKER_APP_NAME", model: false },
  { w: "generationWorker", role: "generation-worker", azd: "generation", output: "AZURE_GENERATION_WORKER_APP_NAME", model: true },
] as const;

describe("the workers' function apps (bicep/main.bicep)", () => {
  it("allows each role the app's settings accept, one app per role", () => {
    expect(api.get("appRole")).toBe("'main'");
    // The module writes the role into APP_ROLE, and every role it allows is one the app's schema accepts.
    expect(functionAppModule.text).toMatch(/^ {2}APP_ROLE: appRole$/m);
    const allowed = params(functionAppModule).find((p) => p.name === "appRole")?.allowed ?? [];
    expect(allowed).toEqual(["'main'", ...workers.map((x) => `'${x.role}'`)]);
    for (const role of allowed) expect(settingsSchema.shape.APP_ROLE.safeParse(role.slice(1, -1)).data, role).toEqual([role.slice(1, -1)]);
    // Every app's name, plan, task hub, container and subnet is its own.
    for (const key of ["name", "planName", "deploymentContainerUrl", "durableTaskHubName", "subnetId"]) {
      const values = [api, ...workers.map((x) => moduleParams(main, `${x.w}App`))].map((m) => m.get(key));
      expect(new Set(values).size, key).toBe(values.length);
    }
  });
});

describe.each(workers)("the $role function app (bicep/main.bicep)", ({ w, role, azd, output, model }) => {
  const worker = moduleParams(main, `${w}App`);

  it("uses the function-app module with its APP_ROLE", () => {
    expect(main.text).toMatch(new RegExp(`^module ${w}App 'modules/function-app\\.bicep' = \\{`, "m"));
    expect(worker.get("appRole")).toBe(`'${role}'`);
  });

  it("gets the model's settings only if it is the generation worker", () => {
    if (model) {
      expect(worker.get("openAIEndpoint")).toBe(api.get("openAIEndpoint"));
      expect(worker.get("openAIDeployment")).toBe(api.get("openAIDeployment"));
    } else {
      expect(worker.get("openAIEndpoint")).toBe("''");
      expect(worker.get("openAIDeployment")).toBe("''");
    }
  });

  it("passes the API app's parameters except for what makes it a separate, queue-scaled app without HTTP", () => {
    // Everything else (database, Service Bus, Blob, Cosmos DB, Key Vault, email, auth, identity, telemetry)
    // is the same expression, so both apps get the same app settings and the same identity's roles.
    const differs = new Set([
      "name",
      "planName",
      "appRole",
      "azdServiceName",
      "servesHttp",
      "nodeArguments",
      "instanceMemoryMB",
      "maximumInstanceCount",
      "alwaysReadyHttpInstances",
      "elasticPremiumMinimumInstances",
      "deploymentContainerUrl",
      "durableTaskHubName",
      "corsAllowedOrigins",
      "apiDocsEnabled",
      "publicApiUrl",
      "subnetId",
      "openAIEndpoint",
      "openAIDeployment",
    ]);
    const drift = [...new Set([...api.keys(), ...worker.keys()])]
      .filter((key) => !differs.has(key))
      .filter((key) => api.get(key) !== worker.get(key))
      .map((key) => `${key}: API app ${api.get(key) ?? "(not passed)"}, worker ${worker.get(key) ?? "(not passed)"}`);
    expect(drift).toEqual([]);
    expect(worker.get("identityResourceId")).toBe("identity.outputs.resourceId");
  });

  it("has its own name, plan, deployment container, Durable task hub and subnet", () => {
    expect(worker.get("name")).toBe(`names.${w}App`);
    expect(worker.get("planName")).toBe(`names.${w}Plan`);
    expect(names.get(`${w}Plan`)).not.toBe(names.get("plan"));
    // Both apps share the host storage account, where the host id (the app name's first 32 characters)
    // keys their locks and timers: the ids must differ.
    // uniqueString() gives 13 characters; the same token in both names, in every environment.
    const concrete = (expr: string | undefined, env: string) =>
      (expr ?? "").replace(/^'|'$/g, "").replace("${environmentName}", env).replace("${resourceToken}", "abcdefghijklm");
    for (const env of ["dev", "staging", "prod"]) {
      const hostId = (key: string) => concrete(names.get(key), env).slice(0, 32);
      const ids = ["functionApp", ...workers.map((x) => `${x.w}App`)].map(hostId);
      expect(new Set(ids).size, `host ids in ${env}: ${ids.join(", ")}`).toBe(ids.length);
    }

    expect(api.get("deploymentContainerUrl")).toContain("${deploymentContainerName}");
    expect(worker.get("deploymentContainerUrl")).toContain(`\${${w}DeploymentContainerName}`);
    const hostStorage = /module hostStorage '[^']+' = \{[\s\S]*?\n\}/.exec(main.text)?.[0] ?? "";
    expect(hostStorage).toMatch(new RegExp(`containers: \\[\\s*deploymentContainerName\\s+${workers.map((x) => `${x.w}DeploymentContainerName`).join("\\s+")}\\s*\\]`));
    expect(main.text).toMatch(new RegExp(`^var ${w}DeploymentContainerName = '[a-z0-9-]+'$`, "m"));
    expect(new RegExp(`^var ${w}DeploymentContainerName = '([^']+)'`, "m").exec(main.text)?.[1]).not.toBe(/^var deploymentContainerName = '([^']+)'/m.exec(main.text)?.[1]);

    // Two apps never share a task hub: one would replay the other's orchestrations without their code.
    expect(api.get("durableTaskHubName")).toBe("durableTaskScheduler.outputs.taskHubName");
    expect(worker.get("durableTaskHubName")).toBe(`durableTaskScheduler.outputs.${w}TaskHubName`);
    expect(names.get(`${w}TaskHub`)).toMatch(/^'[a-z]+\$\{environmentName\}[a-z]+'$/);
    expect(names.get(`${w}TaskHub`)).not.toBe(names.get("durableTaskHub"));
    expect(moduleParams(main, "durableTaskScheduler").get(`${w}TaskHubName`)).toBe(`names.${w}TaskHub`);
    expect(outputs(dts)).toEqual(expect.arrayContaining(["taskHubName", `${w}TaskHubName`]));
    // The identity gets its data-plane role on every hub.
    expect(dts.code.match(/scope: \w*[tT]askHub\n/g)?.sort()).toEqual(["taskHub", ...workers.map((x) => `${x.w}TaskHub`)].map((h) => `scope: ${h}\n`).sort());

    expect(worker.get("subnetId")).toBe(`enablePrivateNetworking ? network!.outputs.${w}SubnetId : ''`);
    expect(outputs(network)).toContain(`${w}SubnetId`);
  });

  it("serves no HTTP: no CORS, no API documents, inbound refused, links pointing at the API app", () => {
    expect(worker.get("servesHttp")).toBe("false");
    expect(api.has("servesHttp")).toBe(false);
    expect(worker.get("corsAllowedOrigins")).toBe("[]");
    expect(worker.get("apiDocsEnabled")).toBe("false");
    expect(worker.get("alwaysReadyHttpInstances")).toBe("0");
    expect(worker.get("publicApiUrl")).toBe("empty(publicApiUrl) ? '${functionApp.outputs.url}/api' : publicApiUrl");
    expect(functionAppModule.text).toMatch(/ipSecurityRestrictionsDefaultAction: 'Deny'/);
    expect(functionAppModule.text).toMatch(/servesHttp \? \{\} : closedInboundSiteConfig/);
    expect(functionAppModule.text).toMatch(/healthCheckPath: servesHttp \? '\/api\/health' : null/);
  });

  it("sizes the worker by its own parameters, and azd and the deploy workflow find it", () => {
    expect(worker.get("instanceMemoryMB")).toBe(`${w}InstanceMemoryMB`);
    expect(worker.get("maximumInstanceCount")).toBe(`${w}MaximumInstanceCount`);
    const mainParams = params(main);
    expect(mainParams.find((p) => p.name === `${w}InstanceMemoryMB`)).toMatchObject({ hasDefault: true });
    expect(mainParams.find((p) => p.name === `${w}MaximumInstanceCount`)).toMatchObject({ hasDefault: true });
    expect(worker.get("azdServiceName")).toBe(`'${azd}'`);
    expect(outputs(main)).toContain(output);
  });
});

describe("the import worker's alerts", () => {
  it("alerts on the queues' dead letters and waiting messages and on the worker's failures", () => {
    const passed = moduleParams(main, "alerts");
    expect(passed.get("queueNames")).toBe("serviceBus.outputs.queueNames");
    expect(passed.get("importWorkerAppName")).toBe("importWorkerApp.outputs.name");
    expect(alerts.text).toMatch(/metricName: 'DeadletteredMessages'/);
    expect(alerts.text).toMatch(/metricName: 'ActiveMessages'/);
    expect(alerts.text).toMatch(/name: 'import-worker-failures'/);
    expect(alerts.text).toContain('cloud_RoleName =~ "${importWorkerAppName}"');
    for (const { w, role } of workers.filter((x) => x.w !== "importWorker")) {
      expect(passed.get(`${w}AppName`)).toBe(`${w}App.outputs.name`);
      expect(alerts.text).toMatch(new RegExp(`name: '${role}-failures'`));
      expect(alerts.text).toContain(`cloud_RoleName =~ "\${${w}AppName}"`);
    }
  });
});
