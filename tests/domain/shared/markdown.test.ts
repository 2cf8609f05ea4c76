import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../../domain/shared/markdown.js";

describe("renderMarkdown: table alignment", () => {
  it("turns a column's alignment into a class, never an inline style (the web app's CSP refuses style attributes)", () => {
    const html = renderMarkdown("| Name | Score | Note |\n| :--- | ---: | :---: |\n| Ada | 9 | ok |\n");
    expect(html).not.toContain("style=");
    expect(html).toContain('<th class="align-left">Name</th>');
    expect(html).toContain('<th class="align-right">Score</th>');
    expect(html).toContain('<th class="align-center">Note</th>');
    expect(html).toContain('<td class="align-right">9</td>');
  });

  it("leaves unaligned cells without a class", () => {
    expect(renderMarkdown("| a | b |\n| - | - |\n| 1 | 2 |\n")).toContain("<td>1</td>");
  });
});

describe("renderMarkdown: headings", () => {
  it("starts headings one level down (the page's title is its h1); h6 stays h6", () => {
    expect(renderMarkdown("# One\n\n## Two\n\n###### Six")).toBe("<h2>One</h2>\n<h3>Two</h3>\n<h6>Six</h6>\n");
  });
});
