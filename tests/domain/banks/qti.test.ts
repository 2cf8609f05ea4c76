import { describe, expect, it } from "vitest";
import type { ExportedItem } from "../../../domain/banks/bank-format.js";
import { qtiItemXml, qtiPackageFiles, xsdPattern } from "../../../domain/banks/qti/qti-export.js";
import { readQtiFiles } from "../../../domain/banks/qti/qti-import.js";
import type { QtiVersion } from "../../../domain/banks/qti/xml-tree.js";

// Every item type and key mode, with tags, difficulty, awkward text and a choice id that is not a QTI identifier.
const items: ExportedItem[] = ([
  {
    item: { id: "q1", type: "single", points: 2, prompt: "Pick <the> one & only\n(second line)", choices: [{ id: "a", text: "Alpha" }, { id: "1 b", text: "Beta \"quoted\"" }] },
    key: { type: "single", correct: "1 b" },
    tags: ["algebra", "unit 1"],
    difficulty: "easy",
  },
  ...(["all-or-nothing", "per-choice", "right-minus-wrong"] as const).map((partialCredit, i) => ({
    item: { id: `m${i}`, type: "multiple" as const, points: 3, prompt: `Pick some (${partialCredit})`, partialCredit, choices: [{ id: "x", text: "X" }, { id: "y", text: "Y" }, { id: "z", text: "Z" }] },
    key: { type: "multiple" as const, correct: ["x", "z"] },
    tags: [],
    difficulty: null,
  })),
  { item: { id: "tf", type: "true-false", points: 1, prompt: "The sky is blue." }, key: { type: "true-false", correct: false }, tags: ["facts"], difficulty: "medium" },
  { item: { id: "n1", type: "numeric", points: 1.5, prompt: "2+2?" }, key: { type: "numeric", mode: "exact", value: 4 }, tags: [], difficulty: null },
  { item: { id: "n2", type: "numeric", points: 1, prompt: "Pi?" }, key: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 }, tags: [], difficulty: "hard" },
  { item: { id: "n3", type: "numeric", points: 1, prompt: "Between?" }, key: { type: "numeric", mode: "range", min: -2.5, max: 10 }, tags: [], difficulty: null },
  { item: { id: "s1", type: "short-text", points: 1, prompt: "Capital of France?" }, key: { type: "short-text", mode: "normalized", accepted: ["Paris", "paris, france"] }, tags: [], difficulty: null },
  { item: { id: "s2", type: "short-text", points: 1, prompt: "A colour" }, key: { type: "short-text", mode: "pattern", pattern: "^(red|blue)\\s*$" }, tags: [], difficulty: null },
  { item: { id: "e1", type: "essay", points: 10, prompt: "Discuss <html> & more." }, key: null, tags: ["writing"], difficulty: null },
  { item: { id: "f1", type: "file", points: 5, prompt: "Upload your work" }, key: null, tags: [], difficulty: null },
] as Omit<ExportedItem, "status">[]).map((i) => ({ ...i, status: "approved" as const }));

/** What an import gives back: ids are the bank's to assign, so only the content is compared. */
const comparable = (list: { item: { id: string }; key: unknown; tags: string[]; difficulty: unknown }[]) => list.map(({ item, ...rest }) => ({ ...rest, item: { ...item, id: "" } }));

describe.each(["qti3", "qti21"] as QtiVersion[])("QTI %s", (version) => {
  it("round-trips every item type and key mode through a package", () => {
    const files = qtiPackageFiles({ id: "b1", title: "Bank" }, items, version);
    expect(files[0]?.path).toBe("imsmanifest.xml");
    const read = readQtiFiles(files.map((f) => ({ path: f.path, text: f.content })));
    if (!read.ok) throw new Error(read.error.detail);
    expect(comparable(read.value)).toEqual(comparable(items));
  });

  it("writes patterns as XSD expressions: matched whole, so the anchors are dropped, the original kept for Ringlet", () => {
    const xml = qtiItemXml(items[9] as ExportedItem, "item-10", version);
    expect(xml).toContain('pattern="(red|blue)\\s*"');
    expect(xml).toContain('="^(red|blue)\\s*$"');
    expect(xsdPattern("^a\\$")).toBe("a\\$");
    expect(xsdPattern("a\\\\$")).toBe("a\\\\");
    expect(xsdPattern("[^x]+")).toBe("[^x]+");
  });

  it("writes the version's own element and attribute names", () => {
    const xml = qtiItemXml(items[0] as ExportedItem, "item-1", version);
    if (version === "qti3") {
      expect(xml).toContain("<qti-assessment-item");
      expect(xml).toContain('<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">');
      expect(xml).toContain("<qti-choice-interaction");
      expect(xml).toContain("http://www.imsglobal.org/xsd/imsqtiasi_v3p0");
    } else {
      expect(xml).toContain("<assessmentItem");
      expect(xml).toContain('baseType="identifier"');
      expect(xml).toContain("<choiceInteraction");
      expect(xml).toContain("http://www.imsglobal.org/xsd/imsqti_v2p1");
    }
    expect(xml).toContain("Pick &lt;the&gt; one &amp; only");
    const tolerance = qtiItemXml(items[6] as ExportedItem, "item-7", version);
    expect(tolerance).toContain(version === "qti3" ? 'tolerance-mode="absolute"' : 'toleranceMode="absolute"');
    const range = qtiItemXml(items[7] as ExportedItem, "item-8", version);
    expect(range).toContain(version === "qti3" ? "<qti-gte>" : "<gte>");
    const pattern = qtiItemXml(items[9] as ExportedItem, "item-10", version);
    expect(pattern).toContain(version === "qti3" ? "<qti-pattern-match" : "<patternMatch");
  });

  it("reads a single item document without a manifest", () => {
    const xml = qtiItemXml(items[4] as ExportedItem, "item-5", version);
    const read = readQtiFiles([{ path: "tf.xml", text: xml }]);
    expect(read.ok && read.value[0]?.key).toEqual({ type: "true-false", correct: false });
  });
});

describe("foreign QTI", () => {
  it("imports a plain QTI 2.1 choice item from another tool (prompt in the body, no Ringlet attributes)", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="choice" title="Unattended Luggage" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceA</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>Look at the text in the picture.</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>What does it say?</prompt>
      <simpleChoice identifier="ChoiceA">You must stay with your luggage at all times.</simpleChoice>
      <simpleChoice identifier="ChoiceB">Do not let someone else look after your luggage.</simpleChoice>
      <simpleChoice identifier="ChoiceC">Remember your luggage when you leave.</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>`;
    const read = readQtiFiles([{ path: "choice.xml", text: xml }]);
    if (!read.ok) throw new Error(read.error.detail);
    expect(read.value[0]).toMatchObject({ item: { type: "single", points: 1, prompt: "What does it say?", choices: [{ id: "ChoiceA" }, { id: "ChoiceB" }, { id: "ChoiceC" }] }, key: { type: "single", correct: "ChoiceA" } });
  });

  it("imports a QTI 3.0 text entry with a case-insensitive mapping and a prefixed namespace", () => {
    const xml = `<qti:qti-assessment-item xmlns:qti="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="te" title="Capital" adaptive="false" time-dependent="false">
  <qti:qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string">
    <qti:qti-correct-response><qti:qti-value>York</qti:qti-value></qti:qti-correct-response>
    <qti:qti-mapping default-value="0"><qti:qti-map-entry map-key="York" mapped-value="1" case-sensitive="false"/><qti:qti-map-entry map-key="Yorke" mapped-value="0"/></qti:qti-mapping>
  </qti:qti-response-declaration>
  <qti:qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti:qti-default-value><qti:qti-value>2</qti:qti-value></qti:qti-default-value></qti:qti-outcome-declaration>
  <qti:qti-item-body><p>Identify the missing word: Old <qti:qti-text-entry-interaction response-identifier="RESPONSE"/> is a city.</p></qti:qti-item-body>
</qti:qti-assessment-item>`;
    const read = readQtiFiles([{ path: "te.xml", text: xml }]);
    if (!read.ok) throw new Error(read.error.detail);
    expect(read.value[0]).toMatchObject({ item: { type: "short-text", points: 2, prompt: "Identify the missing word: Old is a city." }, key: { type: "short-text", mode: "normalized", accepted: ["York"] } });
  });

  it("refuses what Ringlet would score differently: a case-sensitive entry, a relative tolerance, a foreign patternMatch", () => {
    const textEntry = (declaration: string, processing = "") => `<assessmentItem identifier="x"><responseDeclaration identifier="RESPONSE" cardinality="single" baseType="${declaration.includes("float") ? "float" : "string"}">${declaration.replace("float", "")}</responseDeclaration>
<itemBody><p>Q <textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>${processing}</assessmentItem>`;
    const cased = readQtiFiles([{ path: "cased.xml", text: textEntry(`<mapping defaultValue="0"><mapEntry mapKey="York" mappedValue="1" caseSensitive="true"/></mapping>`) }]);
    expect(cased.ok ? null : cased.error).toMatchObject({ code: "QTI_INVALID", detail: expect.stringContaining("case-sensitive") });
    const relative = readQtiFiles([
      {
        path: "relative.xml",
        text: textEntry(
          `float<correctResponse><value>100</value></correctResponse>`,
          `<responseProcessing><responseCondition><responseIf><equal toleranceMode="relative" tolerance="5 5"><variable identifier="RESPONSE"/><correct identifier="RESPONSE"/></equal></responseIf></responseCondition></responseProcessing>`,
        ),
      },
    ]);
    expect(relative.ok ? null : relative.error).toMatchObject({ code: "QTI_INVALID", detail: expect.stringContaining("relative") });
    const pattern = readQtiFiles([
      { path: "pattern.xml", text: textEntry("", `<responseProcessing><responseCondition><responseIf><patternMatch pattern="[A-Z]+"><variable identifier="RESPONSE"/></patternMatch></responseIf></responseCondition></responseProcessing>`) },
    ]);
    expect(pattern.ok ? null : pattern.error).toMatchObject({ code: "QTI_INVALID", detail: expect.stringContaining("patternMatch") });
  });

  it("imports foreign items, whose standing is unknown, as drafts; a Ringlet export's approved items as approved", () => {
    const xml = qtiItemXml(items[4] as ExportedItem, "item-5", "qti21");
    const own = readQtiFiles([{ path: "own.xml", text: xml }]);
    expect(own.ok && own.value[0]?.status).toBe("approved");
    const foreign = readQtiFiles([{ path: "foreign.xml", text: xml.replace(/ data-ringlet-status="approved"/, "") }]);
    expect(foreign.ok && foreign.value[0]?.status).toBe("draft");
  });

  it("refuses XML nested deeper than the parser goes as QTI_INVALID, not a fault", () => {
    const deep = `<assessmentItem identifier="d"><itemBody>${"<div>".repeat(150)}x${"</div>".repeat(150)}</itemBody></assessmentItem>`;
    const read = readQtiFiles([{ path: "deep.xml", text: deep }]);
    expect(read.ok ? null : read.error.code).toBe("QTI_INVALID");
  });

  it("reads a lone surrogate character reference into a refused item, not a database fault", () => {
    const xml = qtiItemXml(items[10] as ExportedItem, "item-11", "qti21").replaceAll("Discuss", "Discuss &#xD800;");
    const read = readQtiFiles([{ path: "s.xml", text: xml }]);
    expect(read.ok ? null : read.error).toMatchObject({ code: "INVALID_ITEM", detail: expect.stringContaining("surrogate") });
  });

  it("refuses interactions Ringlet has no type for, naming the file", () => {
    const xml = `<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="o"><responseDeclaration identifier="RESPONSE" cardinality="ordered" baseType="identifier"/><itemBody><orderInteraction responseIdentifier="RESPONSE"/></itemBody></assessmentItem>`;
    const read = readQtiFiles([{ path: "order.xml", text: xml }]);
    expect(read.ok ? null : read.error).toMatchObject({ code: "QTI_INVALID", detail: expect.stringContaining("order.xml") });
  });

  it("refuses an item whose key contradicts it (itemProblems), all or nothing", () => {
    const good = qtiItemXml(items[0] as ExportedItem, "item-1", "qti3");
    const bad = qtiItemXml({ ...(items[0] as ExportedItem), key: { type: "single", correct: "nope" } }, "item-2", "qti3");
    const read = readQtiFiles([
      { path: "a.xml", text: good },
      { path: "b.xml", text: bad },
    ]);
    expect(read.ok ? null : read.error.code).toBe("INVALID_ITEM");
  });
});

describe("hostile and broken XML", () => {
  it("refuses external entities (XXE)", () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><assessmentItem identifier="x"><itemBody><p>&e;</p></itemBody></assessmentItem>`;
    const read = readQtiFiles([{ path: "xxe.xml", text: xml }]);
    expect(read.ok ? null : read.error.code).toBe("QTI_DOCTYPE_FORBIDDEN");
  });

  it("refuses a billion-laughs payload", () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join("");
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lols}]><assessmentItem identifier="x"><itemBody><p>&lol9;</p></itemBody></assessmentItem>`;
    const read = readQtiFiles([{ path: "lol.xml", text: xml }]);
    expect(read.ok ? null : read.error.code).toBe("QTI_DOCTYPE_FORBIDDEN");
  });

  it("refuses a DOCTYPE inside the manifest too", () => {
    const read = readQtiFiles([{ path: "imsmanifest.xml", text: `<!DOCTYPE m SYSTEM "http://evil.example/x.dtd"><manifest/>` }]);
    expect(read.ok ? null : read.error.code).toBe("QTI_DOCTYPE_FORBIDDEN");
  });

  it("names the file, line and column of malformed XML", () => {
    const read = readQtiFiles([{ path: "broken.xml", text: `<assessmentItem identifier="x">\n<itemBody></assessmentItem>` }]);
    expect(read.ok ? null : read.error).toMatchObject({ code: "QTI_INVALID", detail: expect.stringMatching(/^broken\.xml: line 2/) });
  });

  it("refuses NUL characters and a manifest naming a missing file", () => {
    expect(readQtiFiles([{ path: "n.xml", text: "<a>\u0000</a>" }]).ok).toBe(false);
    const missing = readQtiFiles([{ path: "imsmanifest.xml", text: `<manifest><resources><resource identifier="r" type="imsqti_item_xmlv3p0" href="items/gone.xml"/></resources></manifest>` }]);
    expect(missing.ok ? null : missing.error.detail).toContain("items/gone.xml");
  });
});
