import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** One `route({...})` call and the problem codes its handler can answer with. */
export interface RouteProblems {
  /** The route's `name`: exact, or a pattern when it is built in a loop (`courses-${action}`). */
  name: RegExp;
  where: string;
  codes: Set<string>;
}

/**
 * Reads the problem codes each route's handler can produce from the source, with the TypeScript checker:
 * `new ProblemError("CODE")` in the handler or in app functions it calls, and for `unwrap(result)` the codes of
 * the result's error union that the domain operations it calls actually `fail(...)` with (the union alone is
 * often a whole context's codes). A guide for `npm run check:problems`, not a proof: a code reached through a callback
 * or a dynamic call is not seen, which the API fuzz test covers empirically.
 */
export function handlerProblems(): RouteProblems[] {
  const httpDir = join(repoRoot, "functions", "http");
  const files = readdirSync(httpDir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(httpDir, f));
  const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error("tsconfig.json could not be read");
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const out: RouteProblems[] = [];

  const inRepo = (node: ts.Node, folder: string) => {
    const file = node.getSourceFile().fileName;
    return file.startsWith(join(repoRoot, folder)) && !file.includes("node_modules");
  };

  /** The bodies a call may run: its function declarations, or each function of a union (a loop's `operation`). */
  function callees(call: ts.CallExpression): ts.Node[] {
    let symbol = checker.getSymbolAtLocation(call.expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const bodies = (symbol?.declarations ?? []).flatMap((d) => {
      if (ts.isFunctionLike(d)) return [d];
      if (ts.isVariableDeclaration(d) && d.initializer && ts.isFunctionLike(d.initializer)) return [d.initializer];
      return [];
    });
    if (bodies.length > 0) return bodies;
    const type = checker.getTypeAtLocation(call.expression);
    return (type.isUnion() ? type.types : [type]).flatMap((t) => (t.getSymbol()?.declarations ?? []).filter((d) => ts.isFunctionLike(d)));
  }

  /** Codes a Result type's failure members carry. */
  function resultCodes(type: ts.Type): Set<string> {
    const codes = new Set<string>();
    for (const member of type.isUnion() ? type.types : [type]) {
      const ok = member.getProperty("ok");
      const error = member.getProperty("error");
      if (!ok || !error || checker.typeToString(checker.getTypeOfSymbol(ok)) !== "false") continue;
      const code = checker.getTypeOfSymbol(error).getProperty("code");
      if (!code) continue;
      const codeType = checker.getTypeOfSymbol(code);
      for (const c of codeType.isUnion() ? codeType.types : [codeType]) if (c.isStringLiteral()) codes.add(c.value);
    }
    return codes;
  }

  /** `fail("CODE")` literals in a node and the domain functions it calls. */
  function failures(node: ts.Node, into: Set<string>, seen: Set<ts.Node>, depth = 0): void {
    if (depth > 5) return;
    node.forEachChild(function visit(n) {
      if (ts.isCallExpression(n)) {
        const [first] = n.arguments;
        if (n.expression.getText() === "fail" && first && ts.isStringLiteral(first)) into.add(first.text);
        for (const body of callees(n)) {
          if (inRepo(body, "domain") && !seen.has(body)) {
            seen.add(body);
            failures(body, into, seen, depth + 1);
          }
        }
      }
      n.forEachChild(visit);
    });
  }

  function problems(node: ts.Node, into: Set<string>, seen: Set<ts.Node>, depth = 0): void {
    if (depth > 3) return;
    node.forEachChild(function visit(n) {
      if (ts.isNewExpression(n) && n.expression.getText() === "ProblemError") {
        const [first] = n.arguments ?? [];
        if (first && ts.isStringLiteral(first)) into.add(first.text);
      }
      if (ts.isCallExpression(n)) {
        const [first] = n.arguments;
        if (n.expression.getText() === "unwrap" && first) {
          const typed = resultCodes(checker.getTypeAtLocation(first));
          const failing = new Set<string>();
          failures(first, failing, new Set());
          // A result held in a variable: its operation is not in sight, so its type is all there is.
          const reached = failing.size > 0 ? [...typed].filter((c) => failing.has(c)) : [...typed];
          for (const c of reached) into.add(c);
        }
        for (const body of callees(n)) {
          if (inRepo(body, "functions") && !seen.has(body)) {
            seen.add(body);
            problems(body, into, seen, depth + 1);
          }
        }
      }
      n.forEachChild(visit);
    });
  }

  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    source.forEachChild(function visit(node) {
      if (ts.isCallExpression(node) && node.expression.getText() === "route") {
        const [spec] = node.arguments;
        if (spec && ts.isObjectLiteralExpression(spec)) {
          const nameProperty = spec.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === "name");
          if (nameProperty) {
            const codes = new Set<string>();
            problems(spec, codes, new Set());
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            out.push({ name: namePattern(nameProperty.initializer, checker), where: `${file.slice(repoRoot.length + 1)}:${line + 1}`, codes });
          }
        }
      }
      node.forEachChild(visit);
    });
  }
  return out;
}

/** The route's name as a pattern; a template's spans become the literals their types allow (`"publish" | "archive"`). */
function namePattern(expression: ts.Expression, checker: ts.TypeChecker): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (ts.isStringLiteralLike(expression)) return new RegExp(`^${escape(expression.text)}$`);
  if (ts.isTemplateExpression(expression)) {
    const spans = expression.templateSpans.map((span) => {
      const type = checker.getTypeAtLocation(span.expression);
      const literals = (type.isUnion() ? type.types : [type]).map((t) => (t.isStringLiteral() ? escape(t.value) : null));
      return `${literals.every((l) => l !== null) ? `(${literals.join("|")})` : ".+"}${escape(span.literal.text)}`;
    });
    return new RegExp(`^${escape(expression.head.text)}${spans.join("")}$`);
  }
  throw new Error(`route name ${expression.getText()} is neither a string nor a template`);
}
