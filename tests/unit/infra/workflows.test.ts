// The GitHub workflows and the local deploy action, held against the repository they build and ship:
// least-privilege tokens, scripts and files that exist, and the deploy pipeline's order of things.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const workflowsDir = join(root, ".github", "workflows");
const actionsDir = join(root, ".github", "actions");

type Dict = Record<string, unknown>;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Dict;
  env?: Dict;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  "runs-on"?: unknown;
  "timeout-minutes"?: number;
  permissions?: unknown;
  environment?: string | { name: string; url?: string };
  concurrency?: unknown;
  steps?: Step[];
}

interface Workflow {
  name?: string;
  on: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  env?: Dict;
  jobs: Record<string, Job>;
}

interface CompositeAction {
  name?: string;
  inputs?: Record<string, { required?: boolean; default?: string }>;
  runs: { using: string; steps: Step[] };
}

function parseYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${relative(root, file)}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS();
}

const workflowFiles = existsSync(workflowsDir)
  ? readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f)).sort()
  : [];
const workflows = new Map<string, Workflow>(workflowFiles.map((f) => [f, parseYaml(join(workflowsDir, f)) as Workflow]));

const actionFiles = existsSync(actionsDir)
  ? readdirSync(actionsDir)
      .map((d) => join(actionsDir, d, "action.yml"))
      .filter((f) => existsSync(f))
  : [];
const actions = new Map<string, CompositeAction>(
  actionFiles.map((f) => [`./${relative(root, dirname(f)).split("\\").join("/")}`, parseYaml(f) as CompositeAction]),
);

const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string; scripts: Record<string, string> };

function workflow(name: string): Workflow {
  const wf = workflows.get(name);
  if (!wf) throw new Error(`.github/workflows/${name} is missing`);
  return wf;
}

function job(wf: Workflow, id: string): Job {
  const j = wf.jobs[id];
  if (!j) throw new Error(`job ${id} is missing`);
  return j;
}

/** A job's steps, with the steps of the repository's own composite actions it uses spliced in. */
function expandedSteps(j: Job): Step[] {
  return (j.steps ?? []).flatMap((s) => {
    const local = s.uses?.startsWith("./") ? actions.get(s.uses.replace(/\/$/, "")) : undefined;
    return local ? [s, ...local.runs.steps] : [s];
  });
}

function allSteps(): { where: string; step: Step }[] {
  const out: { where: string; step: Step }[] = [];
  for (const [file, wf] of workflows) {
    for (const [id, j] of Object.entries(wf.jobs)) for (const step of j.steps ?? []) out.push({ where: `${file} → ${id}`, step });
  }
  for (const [path, action] of actions) for (const step of action.runs.steps) out.push({ where: path, step });
  return out;
}

/** Every string anywhere in a parsed document (comments are gone by now). */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function permissionsOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value === "string") throw new Error(`blanket permissions "${value}": list each scope instead`);
  return value as Record<string, string>;
}

function usesAction(steps: Step[], prefix: string): boolean {
  return steps.some((s) => s.uses?.toLowerCase().startsWith(prefix.toLowerCase()));
}

function needsOf(j: Job): string[] {
  return j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs];
}

function environmentName(j: Job): string | undefined {
  return typeof j.environment === "string" ? j.environment : j.environment?.name;
}

function indexOfStep(steps: Step[], predicate: (s: Step) => boolean, what: string): number {
  const i = steps.findIndex(predicate);
  if (i < 0) throw new Error(`no step ${what}`);
  return i;
}

/** Whether a path named by a workflow exists; dist/ paths are checked against the sources they are built from. */
function pathExists(path: string): boolean {
  let p = path.replace(/\/\*\*$/, "").replace(/\/\*?$/, "");
  if (p === "dist" || p.startsWith("dist/")) p = p.slice("dist/".length).replace(/\.js$/, ".ts") || ".";
  if (p.includes("*")) {
    const dir = dirname(p);
    const pattern = new RegExp(`^${p.slice(dir.length + 1).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    return existsSync(join(root, dir)) && readdirSync(join(root, dir)).some((f) => pattern.test(f));
  }
  return existsSync(join(root, p));
}

describe("workflow files", () => {
  it("are the three pipelines, and each parses", () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(["ci.yml", "deploy.yml", "infra.yml"]));
    for (const [file, wf] of workflows) {
      expect(wf.name, file).toBeTruthy();
      expect(wf.on, file).toBeTruthy();
      expect(Object.keys(wf.jobs ?? {}).length, file).toBeGreaterThan(0);
      for (const [id, j] of Object.entries(wf.jobs)) expect(j.steps?.length, `${file} → ${id}`).toBeGreaterThan(0);
    }
    expect(actions.size).toBeGreaterThan(0);
    for (const [path, action] of actions) expect(action.runs.using, path).toBe("composite");
  });

  it("give the token least privilege: read-only by default, writes only where a job needs them", () => {
    const allowedWrites: Record<string, string> = {
      "id-token": "azure/login",
      "security-events": "github/codeql-action/",
    };
    for (const [file, wf] of workflows) {
      expect(wf.permissions, `${file}: top-level permissions`).toBeDefined();
      for (const [scope, level] of Object.entries(permissionsOf(wf.permissions))) {
        expect(["read", "none"], `${file}: top-level ${scope}: ${level}`).toContain(level);
      }
      for (const [id, j] of Object.entries(wf.jobs)) {
        const effective = j.permissions === undefined ? permissionsOf(wf.permissions) : permissionsOf(j.permissions);
        const steps = expandedSteps(j);
        for (const [scope, level] of Object.entries(effective)) {
          if (level !== "write") continue;
          const reason = allowedWrites[scope];
          expect(reason, `${file} → ${id}: ${scope}: write is never needed`).toBeDefined();
          expect(usesAction(steps, reason as string), `${file} → ${id}: ${scope}: write without ${reason}`).toBe(true);
        }
        if (usesAction(steps, "azure/login")) {
          expect(effective["id-token"], `${file} → ${id} logs in to Azure with OIDC`).toBe("write");
        }
      }
    }
  });

  it("run only package.json scripts that exist", () => {
    const named: string[] = [];
    for (const { where, step } of allSteps()) {
      for (const m of (step.run ?? "").matchAll(/\bnpm\s+(?:run(?:-script)?\s+((?:--?[\w-]+\s+)*)([\w:.-]+)|(test|start)\b)/g)) {
        const script = m[2] ?? m[3];
        named.push(script as string);
        expect(Object.keys(packageJson.scripts), `${where}: npm ${m[0]}`).toContain(script);
      }
    }
    expect(named).toEqual(expect.arrayContaining(["lint", "typecheck", "build", "test"]));
  });

  it("name only files and folders that exist", () => {
    const checked = new Set<string>();
    const sources = [...workflows.values(), ...actions.values()];
    for (const doc of sources) {
      for (const text of strings(doc)) {
        for (const m of text.matchAll(/(?:^|[\s"'=(,])((?:bicep|\.github|dist|domain|functions|packages|tests)\/[\w./*-]*)/g)) {
          const path = (m[1] as string).replace(/[.,]$/, "");
          checked.add(path);
          expect(pathExists(path), `${path} is named in a workflow but does not exist`).toBe(true);
        }
      }
    }
    // The ones that matter most, whatever the wording of the workflows.
    for (const p of ["bicep/main.bicep", "bicep/env/*.bicepparam", ".github/gitleaks.toml", "dist/functions/platform/commands/migrate.js", "domain/db/migrations"]) {
      expect(checked, `${p} is referenced`).toContain(p);
    }
    for (const env of ["dev", "staging", "prod"]) {
      expect(existsSync(join(root, "bicep", "env", `${env}.bicepparam`)), `bicep/env/${env}.bicepparam`).toBe(true);
    }
    expect(pathExists(packageJson.main), `package.json main ${packageJson.main}`).toBe(true);
  });

  it("pin every third-party action to a version, and use the repository's own actions by path", () => {
    for (const { where, step } of allSteps()) {
      if (!step.uses) continue;
      if (step.uses.startsWith("./")) {
        expect(actions.has(step.uses.replace(/\/$/, "")), `${where}: ${step.uses}`).toBe(true);
        continue;
      }
      expect(step.uses, where).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    }
  });

  it("bound every job in time and every pipeline in concurrency, on Node 22", () => {
    for (const [file, wf] of workflows) {
      for (const [id, j] of Object.entries(wf.jobs)) {
        expect(j["timeout-minutes"], `${file} → ${id}: timeout-minutes`).toBeGreaterThan(0);
        expect(j["timeout-minutes"], `${file} → ${id}: timeout-minutes`).toBeLessThanOrEqual(60);
        expect(wf.concurrency ?? j.concurrency, `${file} → ${id}: concurrency`).toBeDefined();
      }
    }
    const setupNode = allSteps().filter(({ step }) => step.uses?.startsWith("actions/setup-node@"));
    expect(setupNode.length).toBeGreaterThan(0);
    for (const { where, step } of setupNode) {
      const version = String(step.with?.["node-version"] ?? "");
      const resolved = version.replace(/\$\{\{\s*env\.NODE_VERSION\s*\}\}/, String(workflows.get(where.split(" ")[0] as string)?.env?.NODE_VERSION ?? ""));
      expect(resolved, `${where}: node-version`).toBe("22");
    }
  });

  it("interpolate no workflow input or variable straight into a shell script", () => {
    for (const { where, step } of allSteps()) {
      expect(step.run ?? "", `${where}: pass \${{ inputs/vars/github.event }} through env instead`).not.toMatch(
        /\$\{\{\s*(inputs|vars|github\.event|github\.head_ref)\b/,
      );
    }
  });
});

describe("ci.yml", () => {
  const ci = workflow("ci.yml");
  const runs = Object.values(ci.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ""));

  it("gates pull requests and main on lint, typecheck, build, tests, audit, secrets and CodeQL", () => {
    expect(Object.keys(ci.on as Dict)).toEqual(expect.arrayContaining(["pull_request", "push"]));
    for (const command of ["npm ci", "npm run lint", "npm run typecheck", "npm run build", "vitest run"]) {
      expect(runs.some((r) => r.includes(command)), command).toBe(true);
    }
    expect(runs.some((r) => /npm audit\b.*--omit=dev\b.*--audit-level=high|npm audit\b.*--audit-level=high\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /gitleaks"? git\b/.test(r))).toBe(true);
    const codeql = Object.values(ci.jobs).find((j) => usesAction(j.steps ?? [], "github/codeql-action/init"));
    expect(codeql?.steps?.find((s) => s.uses?.startsWith("github/codeql-action/init"))?.with?.languages).toBe("javascript-typescript");
    expect(usesAction(codeql?.steps ?? [], "github/codeql-action/analyze")).toBe(true);
  });

  it("needs no service containers: the tests start PostgreSQL and Azurite themselves", () => {
    for (const j of Object.values(ci.jobs)) expect((j as Dict).services).toBeUndefined();
  });
});

describe("infra.yml", () => {
  const infra = workflow("infra.yml");
  const on = infra.on as { pull_request?: { paths?: string[] } };
  const steps = Object.values(infra.jobs).flatMap((j) => j.steps ?? []);
  const runs = steps.map((s) => s.run ?? "").join("\n");

  it("runs for pull requests that touch bicep/ or the workflow itself", () => {
    expect(on.pull_request?.paths).toEqual(expect.arrayContaining(["bicep/**", ".github/workflows/infra.yml"]));
  });

  it("builds the template and every parameter file, and lints", () => {
    expect(runs).toMatch(/az bicep build --file bicep\/main\.bicep/);
    expect(runs).toMatch(/az bicep build-params --file/);
    expect(runs).toContain("bicep/env/*.bicepparam");
    expect(runs).toMatch(/az bicep lint\b/);
  });

  it("validates and runs what-if against Azure only when a login is configured, into the job summary", () => {
    const azureJobs = Object.entries(infra.jobs).filter(([, j]) => usesAction(j.steps ?? [], "azure/login"));
    expect(azureJobs.length).toBe(1);
    const [, validate] = azureJobs[0] as [string, Job];
    expect(validate.if).toMatch(/vars\.AZURE_CLIENT_ID\s*!=\s*''/);
    const login = validate.steps?.find((s) => s.uses?.startsWith("azure/login"));
    expect(login?.with).toMatchObject({
      "client-id": "${{ vars.AZURE_CLIENT_ID }}",
      "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
      "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    const script = (validate.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(script).toMatch(/az deployment sub validate\b/);
    expect(script).toMatch(/az deployment sub what-if\b/);
    expect(script).toContain("GITHUB_STEP_SUMMARY");
  });
});

describe("deploy.yml", () => {
  const deploy = workflow("deploy.yml");
  const on = deploy.on as { push?: { branches?: string[] }; workflow_dispatch?: { inputs?: Record<string, unknown> } };
  const build = job(deploy, "build");
  const staging = job(deploy, "staging");
  const production = job(deploy, "production");
  const buildSteps = build.steps ?? [];

  it("runs on pushes to main and by hand with a rollback input", () => {
    expect(on.push?.branches).toEqual(["main"]);
    expect(on.workflow_dispatch?.inputs).toHaveProperty("artifact_run_id");
    expect(build.if).toMatch(/inputs\.artifact_run_id/);
  });

  it("builds once: install, build, prune dev dependencies, then package and upload", () => {
    const install = indexOfStep(buildSteps, (s) => /\bnpm ci\b/.test(s.run ?? ""), "running npm ci");
    const compile = indexOfStep(buildSteps, (s) => /\bnpm (run build|test)\b/.test(s.run ?? ""), "building");
    const prune = indexOfStep(buildSteps, (s) => /\bnpm prune\b.*--omit=dev/.test(s.run ?? ""), "pruning dev dependencies");
    const pack = indexOfStep(buildSteps, (s) => /\bzip\b/.test(s.run ?? ""), "zipping the package");
    const upload = indexOfStep(buildSteps, (s) => s.uses?.startsWith("actions/upload-artifact@") ?? false, "uploading the package");
    expect(install).toBeLessThan(compile);
    expect(compile).toBeLessThan(prune);
    expect(prune).toBeLessThan(pack);
    expect(pack).toBeLessThan(upload);
    const zip = buildSteps[pack]?.run ?? "";
    for (const part of ["dist", "host.json", "package.json", "package-lock.json", "node_modules", "domain/db/migrations"]) {
      expect(zip, `the package holds ${part}`).toMatch(new RegExp(`\\s${part.replace(/\./g, "\\.")}(\\s|$)`));
    }
    // npm links every workspace into node_modules, and the prune keeps the links: the development runtime
    // (packages/local-runtime) is left out of the zip by name.
    expect(zip).toContain("-x 'node_modules/@ringlet/local-runtime/*'");
    expect(buildSteps.slice(prune + 1).some((s) => /\bnpm (ci|install|i)\b/.test(s.run ?? ""))).toBe(false);
  });

  it("deploys staging after the build, production only after staging, each in its GitHub environment", () => {
    expect(environmentName(staging)).toBe("staging");
    expect(needsOf(staging)).toContain("build");
    expect(environmentName(production)).toBe("production");
    expect(needsOf(production)).toContain("staging");
    // A skipped build (rollback) must not skip the deployments, and a failed staging must stop production.
    expect(staging.if).toMatch(/needs\.build\.result/);
    expect(production.if).toMatch(/needs\.staging\.result\s*==\s*'success'/);
    for (const j of [staging, production]) {
      expect(j.concurrency, "deployments queue, never cancel one another").toMatchObject({ "cancel-in-progress": false });
    }
  });

  it("deploys dev only by hand, with the same steps, and keeps branch builds out of staging and production", () => {
    const dev = job(deploy, "dev");
    expect(environmentName(dev)).toBe("dev");
    expect(on.workflow_dispatch?.inputs).toHaveProperty("target");
    expect(dev.if).toMatch(/inputs\.target\s*==\s*'dev'/);
    expect(staging.if).toMatch(/inputs\.target\s*!=\s*'dev'/);
    expect(staging.if).toMatch(/github\.ref\s*==\s*'refs\/heads\/main'/);
    const deployWith = (j: Job) => j.steps?.find((s) => s.uses === "./.github/actions/deploy-function-app")?.with;
    expect(deployWith(dev)).toBeDefined();
    expect(deployWith(dev)?.["required-ref"]).toBeUndefined();
    for (const j of [staging, production]) expect(deployWith(j)?.["required-ref"]).toBe("refs/heads/main");
    const { environment: _e, "required-ref": _r, ...devInputs } = deployWith(dev) as Dict;
    const { environment: _e2, "required-ref": _r2, ...stagingInputs } = deployWith(staging) as Dict;
    expect(devInputs).toEqual(stagingInputs);
  });

  it("gives both environments the same steps, from the same package, rollback included", () => {
    const shape = (j: Job) =>
      (j.steps ?? []).map((s) => ({ uses: s.uses, run: s.run, with: { ...s.with, environment: undefined } }));
    expect(shape(production)).toEqual(shape(staging));
    for (const j of [staging, production]) {
      const download = j.steps?.find((s) => s.uses?.startsWith("actions/download-artifact@"));
      expect(String(download?.with?.["run-id"])).toMatch(/inputs\.artifact_run_id\s*\|\|\s*github\.run_id/);
      expect(download?.with?.["github-token"]).toBeDefined();
      expect(download?.with?.name).toBe(buildSteps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))?.with?.name);
      expect(permissionsOf(j.permissions)).toMatchObject({ "id-token": "write", actions: "read" });
    }
  });

  it("migrates as the app identity before deploying, behind a temporary firewall rule, then smoke-tests", () => {
    const steps = expandedSteps(staging);
    const logins = steps.filter((s) => s.uses?.startsWith("azure/login@"));
    // The deploy principal, the app identity (migration), then the deploy principal again for the web app's site.
    expect(logins.map((s) => s.with?.["client-id"])).toEqual(["${{ inputs.deploy-client-id }}", "${{ inputs.app-identity-client-id }}", "${{ inputs.deploy-client-id }}"]);
    const deployStep = steps.find((s) => s.uses === "./.github/actions/deploy-function-app");
    expect(deployStep?.with).toMatchObject({
      "deploy-client-id": "${{ vars.AZURE_CLIENT_ID }}",
      "app-identity-client-id": "${{ vars.AZURE_APP_IDENTITY_CLIENT_ID }}",
    });

    const open = indexOfStep(steps, (s) => /firewall-rule create/.test(s.run ?? ""), "opening the firewall");
    const migrate = indexOfStep(steps, (s) => /commands\/migrate\.js|npm run db:migrate/.test(s.run ?? ""), "migrating");
    const close = indexOfStep(steps, (s) => /firewall-rule delete/.test(s.run ?? ""), "closing the firewall");
    const ship = indexOfStep(steps, (s) => s.uses?.startsWith("Azure/functions-action@") ?? false, "deploying the code");
    const smoke = indexOfStep(steps, (s) => /\/api\/ready/.test(s.run ?? ""), "smoke-testing");
    expect(open).toBeLessThan(migrate);
    expect(migrate).toBeLessThan(close);
    expect(migrate).toBeLessThan(ship);
    expect(ship).toBeLessThan(smoke);
    expect(steps[close]?.if).toMatch(/always\(\)/);

    const migration = steps[migrate] as Step;
    expect(migration.env).toMatchObject({ DATABASE_AUTH: "entra", DATABASE_SSL: "require" });
    expect(migration.run).toMatch(/postgres:\/\/.*:5432\//);
    expect(steps[ship]?.with).toMatchObject({ sku: "flexconsumption", "remote-build": false });
    expect(steps[smoke]?.run).toContain("/api/health");
  });

  it("publishes the web app built once to each environment's Static Web Apps site, after the API", () => {
    const webUpload = buildSteps.find((s) => s.uses?.startsWith("actions/upload-artifact@") && s.with?.path === "dist/web");
    expect(webUpload?.with?.name).toBe("${{ env.WEB_ARTIFACT_NAME }}");
    for (const id of ["staging", "production", "dev"]) {
      const steps = job(deploy, id).steps ?? [];
      const api = steps.findIndex((s) => s.uses === "./.github/actions/deploy-function-app");
      const web = steps.findIndex((s) => s.uses === "./.github/actions/deploy-web-app");
      expect(api, id).toBeGreaterThanOrEqual(0);
      expect(web, id).toBeGreaterThan(api);
      const download = steps.find((s) => s.uses?.startsWith("actions/download-artifact@") && s.with?.name === "${{ env.WEB_ARTIFACT_NAME }}");
      expect(String(download?.with?.["run-id"])).toMatch(/inputs\.artifact_run_id\s*\|\|\s*github\.run_id/);
      expect(steps[web]?.with).toMatchObject({ "web-dir": "dist/web", "site-name": "${{ vars.AZURE_STATIC_WEB_APP_NAME }}" });
    }
    const publish = expandedSteps(staging).find((s) => s.uses?.startsWith("Azure/static-web-apps-deploy@"));
    expect(publish?.with).toMatchObject({ skip_app_build: true, action: "upload" });
  });

  it("points the published app at the function app's API (no linked backend) and checks the API allows the site's origin", () => {
    const steps = expandedSteps(staging);
    const point = steps.findIndex((s) => s.run?.includes("ringlet-api-base"));
    const publish = steps.findIndex((s) => s.uses?.startsWith("Azure/static-web-apps-deploy@"));
    expect(point).toBeGreaterThanOrEqual(0);
    expect(point, "index.html and the CSP are filled in before the upload").toBeLessThan(publish);
    expect(steps[point]?.run).toContain("PUBLIC_API_URL");
    expect(steps[point]?.run).toContain("__API_ORIGIN__");
    const smoke = steps.slice(publish).find((s) => s.run?.includes("-X OPTIONS"));
    expect(smoke?.run, "a CORS preflight from the site's origin").toMatch(/Origin: \$url/);
    expect(smoke?.run).toMatch(/access-control-allow-origin: \$url/);
    expect(smoke?.run).not.toContain("$url/api/");
  });

  it("ships the same package to the workers first, then the API app, and checks the workers' functions", () => {
    const workers = { "worker-app-name": "AZURE_IMPORT_WORKER_APP_NAME", "enrichment-worker-app-name": "AZURE_ENRICHMENT_WORKER_APP_NAME", "generation-worker-app-name": "AZURE_GENERATION_WORKER_APP_NAME" };
    for (const id of ["staging", "production", "dev"]) {
      const deployStep = job(deploy, id).steps?.find((s) => s.uses === "./.github/actions/deploy-function-app");
      for (const [input, variable] of Object.entries(workers)) expect(deployStep?.with?.[input], `${id} names the ${input}`).toBe(`\${{ vars.${variable} }}`);
    }
    const steps = expandedSteps(staging);
    const ships = steps.flatMap((s, i) => (s.uses?.startsWith("Azure/functions-action@") ? [i] : []));
    expect(ships.map((i) => steps[i]?.with?.["app-name"])).toEqual([...Object.keys(workers).map((input) => `\${{ inputs.${input} }}`), "${{ inputs.app-name }}"]);
    for (const i of ships) {
      expect(steps[i]?.with, "one package, as built, to every app").toMatchObject({ package: "${{ inputs.package }}", sku: "flexconsumption", "remote-build": false });
    }
    const migrate = indexOfStep(steps, (s) => /commands\/migrate\.js/.test(s.run ?? ""), "migrating");
    expect(migrate).toBeLessThan(ships[0] as number);
    const smoke = indexOfStep(steps, (s) => /\/api\/ready/.test(s.run ?? ""), "smoke-testing");
    const workerCheck = indexOfStep(steps, (s) => /az functionapp function list\b/.test(s.run ?? ""), "checking the worker's functions");
    const last = ships[ships.length - 1] as number;
    expect(last).toBeLessThan(smoke);
    expect(last).toBeLessThan(workerCheck);
    const check = steps[workerCheck] as Step;
    expect(check.env?.WORKER_APP_NAME).toBe("${{ inputs.worker-app-name }}");
    expect(check.env?.ENRICHMENT_WORKER_APP_NAME).toBe("${{ inputs.enrichment-worker-app-name }}");
    expect(check.env?.GENERATION_WORKER_APP_NAME).toBe("${{ inputs.generation-worker-app-name }}");
    expect(check.run, "the worker must register no HTTP trigger").toMatch(/httpTrigger/);
    // The names of the triggers the check waits for are the ones the apps register.
    const triggers = [
      ["imports-on-queue", "$WORKER_APP_NAME", ["imports", "import-queue.ts"], 'app.serviceBusQueue("imports-on-queue"'],
      ["update-item-analysis-on-grade-published", "$ENRICHMENT_WORKER_APP_NAME", ["events", "item-analysis.ts"], 'name: "update-item-analysis-on-grade-published"'],
      ["generation-on-queue", "$GENERATION_WORKER_APP_NAME", ["generation", "generation-queue.ts"], 'app.serviceBusQueue("generation-on-queue"'],
    ] as const;
    for (const [name, app, file, registration] of triggers) {
      expect(check.run).toContain(`check "${app}" ${name} `);
      expect(readFileSync(join(root, "functions", ...file), "utf8")).toContain(registration);
    }
    const action = actions.get("./.github/actions/deploy-function-app");
    for (const [input, variable] of Object.entries(workers)) {
      expect(action?.inputs?.[input]?.required).toBe(true);
      expect(action?.runs.steps[0]?.run, "a missing worker variable is reported with the others").toContain(variable);
    }
  });

  it("deploys names that the infrastructure outputs", () => {
    const main = join(root, "bicep", "main.bicep");
    expect(existsSync(main) && statSync(main).isFile(), "bicep/main.bicep").toBe(true);
    const outputs = new Set([...readFileSync(main, "utf8").matchAll(/^output\s+(\S+)\s/gm)].map((m) => m[1]));
    // Environment variable read by the workflow → the main.bicep output that supplies it.
    const fromOutputs: Record<string, string> = {
      AZURE_RESOURCE_GROUP: "AZURE_RESOURCE_GROUP",
      AZURE_FUNCTION_APP_NAME: "AZURE_FUNCTION_APP_NAME",
      AZURE_FUNCTION_APP_URL: "AZURE_FUNCTION_APP_URL",
      AZURE_POSTGRES_HOST: "AZURE_POSTGRES_HOST",
      AZURE_POSTGRES_DATABASE: "AZURE_POSTGRES_DATABASE",
      AZURE_POSTGRES_USER: "AZURE_POSTGRES_USER",
      AZURE_APP_IDENTITY_CLIENT_ID: "AZURE_CLIENT_ID",
      AZURE_IMPORT_WORKER_APP_NAME: "AZURE_IMPORT_WORKER_APP_NAME",
      AZURE_ENRICHMENT_WORKER_APP_NAME: "AZURE_ENRICHMENT_WORKER_APP_NAME",
      AZURE_GENERATION_WORKER_APP_NAME: "AZURE_GENERATION_WORKER_APP_NAME",
    };
    const read = new Set(strings(deploy).flatMap((t) => [...t.matchAll(/vars\.(\w+)/g)].map((m) => m[1] as string)));
    for (const [variable, output] of Object.entries(fromOutputs)) {
      expect(read, `deploy.yml reads vars.${variable}`).toContain(variable);
      expect(outputs, `main.bicep outputs ${output} (for vars.${variable})`).toContain(output);
    }
  });
});
