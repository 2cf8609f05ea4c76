import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";
import { type BicepFile, type ObjectKey, closingBracket, objectKeys, outputs, params, scanBicep } from "./bicep-source.js";

// The bulk-import worker in Azure: a second function app from the same module and package as the API app,
// with APP_ROLE=import-worker, its own plan, deployment container, task hub and subnet, and otherwise the
// very same settings (so the settings drift test, which reads the module, holds for both apps).

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
const worker = moduleParams(main, "importWorkerApp");
const namesDecl = /^var names = \{/m.exec(main.code);
const names = new Map(namesDecl ? objectKeys(main, namesDecl.index + namesDecl[0].length - 1).map((k) => [k.key, k.value]) : []);

describe("the import worker function app (bicep/main.bicep)", () => {
  it("uses the function-app module with APP_ROLE import-worker; the API app says main", () => {
    expect(main.text).toMatch(/^module importWorkerApp 'modules\/function-app\.bicep' = \{/m);
    expect(api.get("appRole")).toBe("'main'");
    expect(worker.get("appRole")).toBe("'import-worker'");
    // The module writes the role into APP_ROLE, and every role it allows is one the app's schema accepts.
    expect(functionAppModule.text).toMatch(/^ {2}APP_ROLE: appRole$/m);
    const allowed = params(functionAppModule).find((p) => p.name === "appRole")?.allowed ?? [];
    expect(allowed).toEqual(["'main'", "'import-worker'"]);
    for (const role of allowed) expect(settingsSchema.shape.APP_ROLE.safeParse(role.slice(1, -1)).success, role).toBe(true);
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
    ]);
    const drift = [...new Set([...api.keys(), ...worker.keys()])]
      .filter((key) => !differs.has(key))
      .filter((key) => api.get(key) !== worker.get(key))
      .map((key) => `${key}: API app ${api.get(key) ?? "(not passed)"}, worker ${worker.get(key) ?? "(not passed)"}`);
    expect(drift).toEqual([]);
    expect(worker.get("identityResourceId")).toBe("identity.outputs.resourceId");
  });

  it("has its own name, plan, deployment container, Durable task hub and subnet", () => {
    expect(worker.get("name")).toBe("names.importWorkerApp");
    expect(worker.get("planName")).toBe("names.importWorkerPlan");
    expect(names.get("importWorkerPlan")).not.toBe(names.get("plan"));
    // Both apps share the host storage account, where the host id (the app name's first 32 characters)
    // keys their locks and timers: the ids must differ.
    // uniqueString() gives 13 characters; the same token in both names, in every environment.
    const concrete = (expr: string | undefined, env: string) =>
      (expr ?? "").replace(/^'|'$/g, "").replace("${environmentName}", env).replace("${resourceToken}", "abcdefghijklm");
    for (const env of ["dev", "staging", "prod"]) {
      const hostId = (key: string) => concrete(names.get(key), env).slice(0, 32);
      expect(hostId("importWorkerApp"), `host ids in ${env}`).not.toBe(hostId("functionApp"));
    }

    expect(api.get("deploymentContainerUrl")).toContain("${deploymentContainerName}");
    expect(worker.get("deploymentContainerUrl")).toContain("${importWorkerDeploymentContainerName}");
    const hostStorage = /module hostStorage '[^']+' = \{[\s\S]*?\n\}/.exec(main.text)?.[0] ?? "";
    expect(hostStorage).toMatch(/containers: \[\s*deploymentContainerName\s+importWorkerDeploymentContainerName\s*\]/);
    expect(main.text).toMatch(/^var importWorkerDeploymentContainerName = '[a-z0-9-]+'$/m);
    expect(/^var importWorkerDeploymentContainerName = '([^']+)'/m.exec(main.text)?.[1]).not.toBe(/^var deploymentContainerName = '([^']+)'/m.exec(main.text)?.[1]);

    // Two apps never share a task hub: one would replay the other's orchestrations without their code.
    expect(api.get("durableTaskHubName")).toBe("durableTaskScheduler.outputs.taskHubName");
    expect(worker.get("durableTaskHubName")).toBe("durableTaskScheduler.outputs.importWorkerTaskHubName");
    expect(names.get("importWorkerTaskHub")).toMatch(/^'[a-z]+\$\{environmentName\}[a-z]+'$/);
    expect(names.get("importWorkerTaskHub")).not.toBe(names.get("durableTaskHub"));
    expect(moduleParams(main, "durableTaskScheduler").get("importWorkerTaskHubName")).toBe("names.importWorkerTaskHub");
    expect(outputs(dts)).toEqual(expect.arrayContaining(["taskHubName", "importWorkerTaskHubName"]));
    // The identity gets its data-plane role on both hubs.
    expect(dts.code.match(/scope: (taskHub|importWorkerTaskHub)\n/g)?.sort()).toEqual(["scope: importWorkerTaskHub\n", "scope: taskHub\n"]);

    expect(worker.get("subnetId")).toBe("enablePrivateNetworking ? network!.outputs.importWorkerSubnetId : ''");
    expect(outputs(network)).toContain("importWorkerSubnetId");
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
    expect(worker.get("instanceMemoryMB")).toBe("importWorkerInstanceMemoryMB");
    expect(worker.get("maximumInstanceCount")).toBe("importWorkerMaximumInstanceCount");
    const mainParams = params(main);
    expect(mainParams.find((p) => p.name === "importWorkerInstanceMemoryMB")).toMatchObject({ hasDefault: true });
    expect(mainParams.find((p) => p.name === "importWorkerMaximumInstanceCount")).toMatchObject({ hasDefault: true });
    expect(worker.get("azdServiceName")).toBe("'imports'");
    expect(outputs(main)).toContain("AZURE_IMPORT_WORKER_APP_NAME");
  });

  it("alerts on the queues' dead letters and waiting messages and on the worker's failures", () => {
    const passed = moduleParams(main, "alerts");
    expect(passed.get("queueNames")).toBe("serviceBus.outputs.queueNames");
    expect(passed.get("importWorkerAppName")).toBe("importWorkerApp.outputs.name");
    expect(alerts.text).toMatch(/metricName: 'DeadletteredMessages'/);
    expect(alerts.text).toMatch(/metricName: 'ActiveMessages'/);
    expect(alerts.text).toMatch(/name: 'import-worker-failures'/);
    expect(alerts.text).toContain('cloud_RoleName =~ "${importWorkerAppName}"');
  });
});
